"""What a run prints: a tqdm bar per epoch (or one line per epoch), and the closing table."""

import sys

__all__ = ["PlainBatches", "progress_factory", "summary_table"]


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


def progress_factory(progress, print):
    """``bar(iterable, description)``: a tqdm bar on a terminal, else ``PlainBatches``."""
    if progress and sys.stderr.isatty():  # a bar redrawn in place; in a log, a line per epoch
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
