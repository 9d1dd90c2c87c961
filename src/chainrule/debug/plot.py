"""The gradient norm of each parameter, input to output, on a log scale (matplotlib, Agg).

Vanishing gradients show as a line falling towards the input (the left),
exploding ones as a line far above the dashed ``exploding_norm``. Weights
are joined by a line; biases and other 1-d parameters are grey squares;
flagged parameters are ringed in red; a parameter with no gradient (or a
gradient of exactly zero) sits on the bottom edge with a red cross.
"""

import numpy as np

__all__ = ["plot_reports"]


def plot_reports(reports, path, titles=None):
    """Write one panel per report, side by side with a shared y axis, to ``path`` (a PNG).

    ``titles`` (optional) names the panels, e.g. ``["before", "after"]``.
    Returns ``path``.
    """
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError('GradientReport.plot needs matplotlib: pip install "chainrule[cli]"'
                          ) from error
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports = list(reports)
    if not reports:
        raise ValueError("plot_reports: got no reports to plot")
    if titles is not None and len(titles) != len(reports):
        raise ValueError(f"plot_reports: got {len(titles)} titles for {len(reports)} reports")
    norms = [row.grad_norm for report in reports for row in report.rows
             if row.grad_norm is not None and np.isfinite(row.grad_norm) and row.grad_norm > 0]
    floor = min(norms) / 10 if norms else 1e-12
    top = max(norms) * 3 if norms else 1.0
    widths = [max(4.0, 0.28 * len(report.rows) + 1.5) for report in reports]
    fig, axes = plt.subplots(1, len(reports), figsize=(sum(widths), 5.2), sharey=True,
                             gridspec_kw={"width_ratios": widths}, squeeze=False)
    for index, (report, ax) in enumerate(zip(reports, axes[0])):
        top = max(top, _panel(ax, report, floor))
        title = titles[index] if titles else report.model_name
        verdict = "ok" if report.ok else ", ".join(
            f"{kind} ({count})" for kind, count in _counts(report).items())
        ax.set_title(f"{title}\n{verdict}", fontsize=10,
                     color="black" if report.ok else "firebrick")
    axes[0][0].set_ylim(floor / 2, top)  # the axes share y: one call sets every panel
    axes[0][0].set_ylabel("gradient norm |g| (log scale)")
    axes[0][0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _panel(ax, report, floor):
    flagged = {flag.name for flag in report.flags}
    x = np.arange(len(report.rows))
    values = np.array([row.grad_norm if row.grad_norm is not None and row.grad_norm > 0 else np.nan
                       for row in report.rows], dtype=float)
    weights = np.array([row.is_weight for row in report.rows])
    ax.plot(x[weights], values[weights], "o-", color="tab:blue", label="weights")
    if (~weights).any():
        ax.plot(x[~weights], values[~weights], "s", color="grey", markersize=4,
                label="biases, other")
    ring = np.array([row.name in flagged for row in report.rows]) & np.isfinite(values)
    if ring.any():
        ax.plot(x[ring], values[ring], "o", markersize=13, markerfacecolor="none",
                markeredgecolor="red", markeredgewidth=1.5, label="flagged")
    missing = ~np.isfinite(values)
    if missing.any():
        ax.plot(x[missing], np.full(missing.sum(), floor), "x", color="red", markersize=9,
                markeredgewidth=2, clip_on=False, label="no gradient / zero / nan")
    needed_top = 0.0  # how high the y axis must reach for this panel's lines
    exploding = report.thresholds.get("exploding_norm")
    finite = values[np.isfinite(values)]
    if exploding and finite.size and finite.max() > exploding / 100:
        ax.axhline(exploding, color="firebrick", linestyle="--", linewidth=1,
                   label=f"exploding_norm {exploding:g}")
        needed_top = exploding * 3
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels([row.name for row in report.rows], rotation=90, fontsize=7)
    ax.set_xlabel("input  \u2192  output")
    ax.grid(True, which="major", axis="y", alpha=0.3)
    return needed_top


def _counts(report):
    counts = {}
    for flag in report.flags:
        counts[flag.kind] = counts.get(flag.kind, 0) + 1
    return counts
