"""The scripts here run under mpiexec (tests/test_distributed.py), never imported by pytest:
importing one would start a job's work in the test process."""

collect_ignore_glob = ["*.py"]
