# The programs are PyTorch programs run by test_ported_programs.py through loader.py,
# not test modules: --doctest-modules must not import them on its own.
collect_ignore_glob = ["programs/*"]
