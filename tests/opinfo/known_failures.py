"""The one list of core-set OpInfos that chainrule does not pass, each with its reason.

tests/opinfo/test_opinfo.py marks these as expected failures (strict: an entry
that starts passing fails the suite until it is removed here), and
docs/opinfo.md shows the same list to users.
"""

KNOWN_FAILURES = {
    "linalg.eig": (
        "torch returns complex eigenvalues and eigenvectors for real input; chainrule is "
        "real-valued (no complex dtypes), so it has no eig"),
    "linalg.eigvals": (
        "torch returns complex eigenvalues for real input; chainrule is real-valued (use "
        "linalg.eigvalsh for symmetric matrices)"),
    "nn.functional.silu.complex": (
        "a complex-only OpInfo (its CPU dtypes are complex64 and complex128); chainrule is "
        "real-valued, and real silu passes as nn.functional.silu"),
    "nn.functional.max_unpool3d": (
        "sample 0 has overlapping windows, so an index repeats: the forward keeps one write "
        "while torch's gradient (which chainrule matches) sends the full gradient to every "
        "copy; no forward agrees with both torch's gradient and central differences"),
    "special.bessel_j0": (
        "torch 2.13 is off by up to 3.8e-7 for 5 < |x| < 5.61 (its Cephes port drops the "
        "implicit leading 1 of the QQ denominator); chainrule gives scipy's correct value"),
    "special.bessel_y1": (
        "torch 2.13 is off by up to 3.2e-7 for 5 < x < 5.78 (the same Cephes port defect); "
        "chainrule gives scipy's correct value"),
}
