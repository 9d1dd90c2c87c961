"""``chainrule train --doctor``: the gradient report of a trained model on one batch.

After the last epoch the doctor runs one forward and backward pass on the
first batch of the (standardised) training set, in training mode as the
steps were, prints ``gradient_report`` for the model and its optimizer
(dead ReLUs counted on the same batch) and writes ``doctor.png`` into the
run folder. Batch-norm running statistics are put back afterwards, so the
model that was saved is the model that is returned.
"""

import os

import numpy as np

from chainrule.debug.report import gradient_report
from chainrule.ops.loss import cross_entropy

__all__ = ["doctor_for_run", "train_doctor"]

PLOT = "doctor.png"


def doctor_for_run(model, optimizer, batch, out_dir, loss_fn=cross_entropy, print=print):
    """Backward ``loss_fn(model(features), labels)`` on ``batch = (features, labels)``, print
    the report and write ``out_dir/doctor.png``; returns the ``GradientReport``.

    The model's gradients are replaced by this batch's.
    """
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        raise TypeError(f"doctor_for_run: batch must be a pair (features, labels), got "
                        f"{type(batch).__name__}")
    features, labels = batch
    buffers = [(buffer, np.array(buffer.array)) for buffer in model.buffers()]
    try:
        model.zero_grad()
        loss_fn(model(features), labels).backward()
    finally:
        for buffer, saved in buffers:  # batch norm's running statistics, as they were
            buffer.array[...] = saved
    report = gradient_report(model, optimizer, dead_relu_batch=features)
    os.makedirs(out_dir, exist_ok=True)
    path = report.plot(os.path.join(out_dir, PLOT), title=f"{type(model).__name__} after training")
    if print is not None:
        print(f"{report}\ndoctor plot: {path}")
    return report


def train_doctor(out_dir, batch_size, print=print):
    """The ``on_end(model, optimizer, train_set)`` hook ``chainrule train --doctor`` hands to
    ``training.train``: ``doctor_for_run`` on the first ``batch_size`` training examples."""

    def on_end(model, optimizer, train_set):
        features, labels = train_set.tensors
        return doctor_for_run(model, optimizer, (features[:batch_size], labels[:batch_size]),
                              out_dir, print=print)

    return on_end
