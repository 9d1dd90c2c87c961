"""What a run prints: a tqdm bar per epoch (or one line per epoch), the closing table, and
a warning the moment the loss diverges."""

import importlib
import math
import sys

__all__ = ["PlainBatches", "progress_factory", "summary_table", "wants_bar", "tqdm_note",
           "DivergenceWatch", "warn_line", "NO_TQDM"]

NO_TQDM = ('chainrule: note: tqdm is not installed, so no progress bar: one line per epoch '
           'instead; pip install "chainrule[cli]" adds it')
NONFINITE = ("chainrule: warning: the loss is {loss} at epoch {epoch}, step {step}: the learning "
             "rate is likely too high (--lr {lr:g}); try a smaller one (e.g. --lr {smaller:g}), "
             "and --doctor to see the gradients")
GROWTH = ("chainrule: warning: the loss grew from {first:.4g} to {loss:.4g} (over {factor:g}x) "
          "by epoch {epoch}, step {step}: the learning rate is likely too high (--lr {lr:g}); "
          "try a smaller one (e.g. --lr {smaller:g}), and --doctor to see the gradients")


class PlainBatches:
    """Stands in for a tqdm bar when tqdm is missing or progress is off: one line at the end."""

    def __init__(self, iterable, description, print):
        self.iterable, self.description, self.print = iterable, description, print
        self.postfix = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.print is not None:
            extras = "  ".join(f"{k} {v}" for k, v in self.postfix.items())
            self.print(f"{self.description}  {extras}")
        return False

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, **values):
        self.postfix = values


def wants_bar(progress):
    """A bar is redrawn in place on a terminal; in a log, a line per epoch is better."""
    return bool(progress) and sys.stderr.isatty()


def tqdm_note(progress):
    """The one-line note for a run that wants a bar but has no tqdm; None when all is well."""
    if not wants_bar(progress):
        return None
    try:
        importlib.import_module("tqdm")
    except ImportError:
        return NO_TQDM
    return None


def progress_factory(progress, print):
    """``bar(iterable, description)``: a tqdm bar on a terminal, else ``PlainBatches``."""
    if wants_bar(progress):
        try:
            from tqdm import tqdm  # optional extra: chainrule[cli]
        except ImportError:
            print('(progress bars need tqdm: pip install "chainrule[cli]"; printing per epoch)')
        else:
            return lambda iterable, description: tqdm(iterable, desc=description, leave=True,
                                                      ncols=90)
    return lambda iterable, description: PlainBatches(iterable, description, print)


def summary_table(history):
    """A plain-text table of the epochs."""
    lines = [f"{'epoch':>5}  {'train loss':>10}  {'train acc':>9}  {'test loss':>9}  "
             f"{'test acc':>8}  {'seconds':>7}"]
    for i in range(len(history["epoch"])):
        lines.append(f"{history['epoch'][i]:>5}  {history['train_loss'][i]:>10.4f}  "
                     f"{history['train_accuracy'][i]:>9.4f}  {history['test_loss'][i]:>9.4f}  "
                     f"{history['test_accuracy'][i]:>8.4f}  {history['seconds'][i]:>7.2f}")
    return "\n".join(lines)


def warn_line(message):
    """Print one line on stderr at once, above a tqdm bar if one is drawn."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is not None and hasattr(tqdm, "tqdm"):
        tqdm.tqdm.write(message, file=sys.stderr)
    else:
        print(message, file=sys.stderr, flush=True)


class DivergenceWatch:
    """Watches each batch's loss; warns once when it turns NaN/inf, once when it grows past
    ``factor`` x the first batch's loss (the loss of the initial weights)."""

    def __init__(self, lr, warn=warn_line, factor=1e3):
        self.lr, self.warn, self.factor = lr, warn, factor
        self.first = None
        self.warned = set()

    def __call__(self, loss, epoch, step):
        """Check the loss of batch ``step`` of epoch ``epoch`` (both counted from 1)."""
        numbers = dict(loss=loss, epoch=epoch, step=step, lr=self.lr, smaller=self.lr / 10,
                       first=self.first, factor=self.factor)
        if not math.isfinite(loss):
            if "nonfinite" not in self.warned:
                self.warned.add("nonfinite")
                self.warn(NONFINITE.format(**numbers))
        elif self.first is None:
            self.first = loss
        elif loss > self.factor * max(self.first, 1e-3) and "growth" not in self.warned:
            self.warned.add("growth")
            self.warn(GROWTH.format(**numbers))
