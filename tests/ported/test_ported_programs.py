"""Ported programs: each file in programs/ is a PyTorch program, run as written and
again with only its import lines pointed at chainrule (loader.py checks that no other
line differs). Both runs start from the same weights (torch's, copied in) and see the
same data; they must give the same loss and gradients, then train alike.

Float32 throughout: a loss and each parameter's gradient agree to 1e-4 relative
(the difference over the largest magnitude of that tensor); after training, the
final losses agree to a few percent (sums run in different orders, and where a
program samples at random, chainrule's generator draws other numbers than torch's,
so those are compared as distributions, never value by value).
"""

import functools

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.ported.loader import PortError, load_pair, port_source, source_of

try:
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - threadpoolctl comes with the bench extra
    threadpool_limits = None

RTOL = 1e-4

#: program -> how it is compared: training steps, the relative tolerance of the final
#: losses, options for build_model (dropout 0 where torch's and chainrule's masks would
#: differ), and whether the exact comparison runs in eval mode (the VAE samples in train).
PROGRAMS = {
    "lecture_mlp": dict(steps=60, tolerance=0.01),
    "transformer_lm": dict(steps=30, tolerance=0.02),
    "vae": dict(steps=60, tolerance=0.05, exact_in_eval=True),  # randn_like and shuffling
    "lstm_lm": dict(steps=40, tolerance=0.02, options=dict(dropout=0.0)),
    "gru_lm": dict(steps=60, tolerance=0.02, options=dict(dropout=0.0)),
    "resnet_bn": dict(steps=24, tolerance=0.10),  # shuffled by each engine's generator
    "gan_gp": dict(steps=20, tolerance=0.03, returns="Wasserstein estimate"),
    "seq2seq_attention": dict(steps=40, tolerance=0.02, options=dict(dropout=0.0)),
}

#: The largest relative differences measured, by (program, what): printed with -s.
MEASURED = {}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Two shared cores: torch's intra-op threads and a threaded BLAS only contend
    (a tiny torch matmul then waits on its spinning threads for milliseconds)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    limits = threadpool_limits(1, user_api="blas") if threadpool_limits else None
    yield
    torch.set_num_threads(threads)
    if limits is not None:
        limits.restore_original_limits()
    for key, value in sorted(MEASURED.items()):
        print(f"{key[0]:<20} {key[1]:<28} {value:.2e}")


@functools.cache
def programs(name):
    return load_pair(name)


def array(t):
    return np.asarray(t.detach().numpy())


def relative(ours, theirs, floor=1e-12):
    """max |ours - theirs| over the largest |theirs| (at least ``floor``, the absolute
    tolerance's share): one number per tensor."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    scale = max(np.abs(theirs).max(initial=0.0), floor)
    return float(np.abs(ours - theirs).max(initial=0.0) / scale)


def record(name, what, value):
    MEASURED[name, what] = max(value, MEASURED.get((name, what), 0.0))
    return value


def named_parameters(model):
    if isinstance(model, list):  # the lecture's list of raw tensors
        return [(str(i), p) for i, p in enumerate(model)]
    return list(model.named_parameters())


def twin_models(name, **options):
    """torch's model, and chainrule's with torch's initial weights copied in."""
    theirs_module, ours_module = programs(name)
    theirs = theirs_module.build_model(**options)
    ours = ours_module.build_model(**options)
    if isinstance(theirs, list):
        ours = [cr.tensor(array(p), requires_grad=True) for p in theirs]
    else:
        state = theirs.state_dict()
        assert list(state) == list(ours.state_dict()), "state dict keys differ from torch's"
        ours.load_state_dict({k: v.detach().numpy() for k, v in state.items()})
    return theirs_module, theirs, ours_module, ours


def assert_same_batch(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same_batch(a, b)
    elif isinstance(theirs, torch.Tensor):
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch."), (ours.dtype,
                                                                             theirs.dtype)
        np.testing.assert_array_equal(array(ours), array(theirs))


def compare_loss_and_gradients(name, seed=0):
    spec = PROGRAMS[name]
    theirs_module, theirs, ours_module, ours = twin_models(name, **spec.get("options", {}))
    if spec.get("exact_in_eval"):
        theirs.eval()
        ours.eval()
    batch_theirs, batch_ours = theirs_module.make_batch(seed), ours_module.make_batch(seed)
    assert_same_batch(batch_ours, batch_theirs)
    loss_theirs = theirs_module.loss_fn(theirs, batch_theirs)
    loss_ours = ours_module.loss_fn(ours, batch_ours)
    assert record(name, "loss", relative(loss_ours.item(), loss_theirs.item())) <= RTOL
    loss_theirs.backward()
    loss_ours.backward()
    ours_params, theirs_params = named_parameters(ours), named_parameters(theirs)
    assert [n for n, _ in ours_params] == [n for n, _ in theirs_params]
    # A gradient that is zero in exact arithmetic (the bias of an attention score, which
    # softmax cancels) is rounding noise in both: measured against 1e-3 of the largest
    # gradient of the model, an absolute tolerance of 1e-7 of that.
    floor = 1e-3 * max(np.abs(array(p.grad)).max() for _, p in theirs_params
                       if p.grad is not None)
    for (key, p_ours), (_, p_theirs) in zip(ours_params, theirs_params):
        if p_theirs.grad is None:  # a part the loss does not reach (a frozen generator)
            assert p_ours.grad is None, f"{key}: a gradient where torch has none"
            continue
        assert p_ours.grad is not None, f"{key}: no gradient in chainrule"
        difference = record(name, "gradient (worst parameter)",
                            relative(array(p_ours.grad), array(p_theirs.grad), floor))
        assert difference <= RTOL, (key, difference)
    if not isinstance(theirs, list):  # buffers the forward pass updated (BatchNorm's)
        state_ours = ours.state_dict()
        for key, value in theirs.state_dict().items():
            if key not in dict(theirs.named_parameters()):
                difference = record(name, "buffers after the forward pass",
                                    relative(array(state_ours[key]), array(value)))
                assert difference <= RTOL, (key, difference)
    return theirs_module, theirs, ours_module, ours


def test_every_program_is_compared():
    from tests.ported.loader import PROGRAMS as FOLDER

    assert sorted(p.stem for p in FOLDER.glob("*.py")) == sorted(PROGRAMS)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_only_import_lines_differ(name):
    source = source_of(name)
    ported, changed = port_source(source)
    before, after = source.splitlines(), ported.splitlines()
    for number in changed:
        assert before[number].startswith(("import torch", "from torch")), before[number]
        assert "chainrule" in after[number]
    assert all(before[i] == after[i] for i in range(len(before)) if i not in changed)


def test_a_changed_line_that_is_not_an_import_is_refused():
    with pytest.raises(PortError, match="not rewrite"):
        port_source("import torch\nimport torch.nn, torch.optim\n")
    with pytest.raises(PortError, match="names chainrule"):
        port_source("import torch\nx = 'chainrule'\n")


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_same_loss_and_gradients(name):
    compare_loss_and_gradients(name)


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_training_from_the_same_weights_ends_at_the_same_loss(name):
    spec = PROGRAMS[name]
    steps, tolerance = spec["steps"], spec["tolerance"]
    theirs_module, theirs, ours_module, ours = twin_models(name, **spec.get("options", {}))
    first = theirs_module.loss_fn(theirs, theirs_module.make_batch(0)).item()
    final_theirs = theirs_module.train(theirs, steps)
    final_ours = ours_module.train(ours, steps)
    assert np.isfinite(final_ours)
    if "returns" not in spec:  # train() returns a loss, which fell
        assert final_theirs < first
    difference = record(name, "final training loss", relative(final_ours, final_theirs))
    assert difference <= tolerance, (final_ours, final_theirs)


def multinomial_matches(probs, draws, generator=None):
    """chainrule's torch.multinomial draws from ``probs``: frequencies within 5 sigma."""
    probs = np.asarray(probs, dtype=np.float64)
    probs = probs / probs.sum()
    sample = cr.multinomial(cr.tensor(probs.astype(np.float32)), draws, replacement=True,
                            generator=generator)
    counts = np.bincount(array(sample), minlength=probs.size) / draws
    sigma = np.sqrt(probs * (1 - probs) / draws)
    assert np.all(np.abs(counts - probs) <= 5 * sigma + 1e-3), (counts, probs)


# ---------------------------------------------------------------- program by program

def test_lecture_mlp_samples_names_from_the_same_distribution():
    theirs_module, theirs, ours_module, ours = twin_models("lecture_mlp")
    names = ours_module.sample(ours, n=5)
    assert len(names) == 5 and all(set(n) <= set(ours_module.CHARS) for n in names)
    # The next-character distribution after "..." is the same; chainrule draws from it.
    context = [[0, 0, 0]]
    p_theirs = theirs_module.F.softmax(theirs_module.forward(theirs, torch.tensor(context)), 1)
    p_ours = ours_module.F.softmax(ours_module.forward(ours, cr.tensor(context)), 1)
    assert relative(array(p_ours), array(p_theirs)) <= RTOL
    multinomial_matches(array(p_theirs)[0], 20_000, cr.Generator().manual_seed(2147483647))


def test_lecture_mlp_generator_draws_are_reproducible_but_not_torchs():
    """torch.Generator().manual_seed(2147483647) then randn(..., generator=g): chainrule
    repeats its own draws from the same seed, standard normal ones, but its generator
    is not torch's, so the twin tests copy torch's tensors in rather than reseed."""
    theirs_module, ours_module = programs("lecture_mlp")
    first, again = ours_module.build_model(), ours_module.build_model()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(array(a), array(b))
    C = array(ours_module.torch.randn((200, 50), generator=ours_module.torch.Generator()
                                      .manual_seed(2147483647)))
    assert abs(C.mean()) < 0.02 and abs(C.std() - 1) < 0.02
    assert not np.allclose(array(first[0]), array(theirs_module.build_model()[0]))


def _lecture_update(engine, m):
    m.weight.data += -0.1 * m.weight.grad  # makemore's update


def _dcgan_init(engine, m):
    m.weight.data.normal_(0.0, 0.02)  # DCGAN's (and the WGAN toy's) weights_init
    m.bias.data.fill_(0)


def _init_through_data(engine, m):
    engine.nn.init.normal_(m.weight.data, 0.0, 0.02)  # the DCGAN tutorial's newer spelling
    engine.nn.init.constant_(m.bias.data, 0)


def _word_lm_update(engine, m):
    for p in m.parameters():  # pytorch/examples word_language_model's manual SGD
        p.data.add_(p.grad, alpha=-0.1)


def _weight_clipping(engine, m):
    for p in m.parameters():  # the original WGAN's critic clipping
        p.data.clamp_(-0.01, 0.01)


def _assign_data(engine, m):
    m.weight.data = engine.zeros(2, 3)  # swapping a parameter's values


def _scale_in_place(engine, m):
    m.weight.data *= 0.5


def _copy_in(engine, m):
    m.weight.data.copy_(engine.ones(2, 3))


DATA_IDIOMS = [
    pytest.param(_lecture_update, True, id="lecture p.data += -lr * p.grad"),
    pytest.param(_dcgan_init, False, id="DCGAN m.weight.data.normal_"),
    pytest.param(_init_through_data, False, id="nn.init.normal_(m.weight.data)"),
    pytest.param(_word_lm_update, True, id="word_language_model p.data.add_(p.grad, alpha=-lr)"),
    pytest.param(_weight_clipping, True, id="WGAN p.data.clamp_"),
    pytest.param(_assign_data, True, id="p.data = tensor"),
    pytest.param(_scale_in_place, True, id="p.data *= 0.5"),
    pytest.param(_copy_in, True, id="p.data.copy_(t)"),
]


@pytest.mark.parametrize("engine", [torch, cr])
def test_data_is_a_tensor(engine):
    p = engine.nn.Linear(3, 2).weight
    assert isinstance(p.data, engine.Tensor) and not p.data.requires_grad


@pytest.mark.parametrize("idiom, deterministic", DATA_IDIOMS)
def test_parameter_updates_through_data(idiom, deterministic):
    """What PyTorch programs do through `.data`: torch's `.data` is a tensor sharing the
    parameter's storage, so the parameter itself changes and training goes on."""
    theirs = torch.nn.Linear(3, 2)
    ours = cr.nn.Linear(3, 2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    for engine, model in ((torch, theirs), (cr, ours)):
        inputs = engine.tensor(x, requires_grad=True)  # as emb is in the lecture

        def step():  # a lecture-style forward on raw tensors, and backward
            model.zero_grad()
            (inputs @ model.weight.T + model.bias).sum().backward()

        step()
        idiom(engine, model)
        step()  # the next step's backward runs
        assert "tensor(" in repr(model.weight)  # and the parameter still prints
    if deterministic:
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(array(ours.state_dict()[key]), array(value), rtol=1e-6)


def test_transformer_lm_generates_from_the_same_distribution():
    theirs_module, theirs, ours_module, ours = twin_models("transformer_lm")
    text = ours_module.sample(ours, max_new_tokens=20)
    assert len(text) == 21 and set(text) <= set(ours_module.chars)
    # generate() samples from softmax(logits[:, -1, :]): the same distribution in both
    context = theirs_module.encode("All: ")
    logits_theirs, _ = theirs(torch.tensor([context]))
    logits_ours, _ = ours(cr.tensor([context]))
    p_theirs = torch.softmax(logits_theirs[:, -1, :], dim=-1)
    p_ours = cr.softmax(logits_ours[:, -1, :], dim=-1)
    assert record("transformer_lm", "next-token probabilities",
                  relative(array(p_ours), array(p_theirs))) <= RTOL
    multinomial_matches(array(p_theirs)[0], 20_000)


def test_vae_reparameterisation_samples_from_the_same_gaussian():
    _, _, ours_module, ours = twin_models("vae")
    mu = cr.tensor(np.linspace(-1, 1, 8, dtype=np.float32)).expand(4000, 8)
    logvar = cr.tensor(np.linspace(-2, 1, 8, dtype=np.float32)).expand(4000, 8)
    ours.train()
    z = array(ours.reparameterize(mu, logvar))  # mu + randn_like(std) * std
    std = np.exp(0.5 * np.linspace(-2, 1, 8))
    np.testing.assert_allclose(z.mean(0), np.linspace(-1, 1, 8), atol=5 * std.max() / 60)
    np.testing.assert_allclose(z.std(0), std, rtol=0.06)
    images = array(ours_module.sample(ours, n=16))
    assert images.shape == (16, 1, 8, 8) and ((images > 0) & (images < 1)).all()


@pytest.mark.parametrize("name", ["lstm_lm", "gru_lm"])
def test_recurrent_lm_trains_alike_with_dropout_on(name):
    """Dropout between the layers and on the outputs draws other masks in each
    engine: the losses after training agree as distributions do, loosely."""
    theirs_module, theirs, ours_module, ours = twin_models(name)  # the program's dropout
    assert theirs.training and (getattr(theirs, "lstm", None) or theirs.rnn).dropout > 0
    final_theirs = theirs_module.train(theirs, 30)
    final_ours = ours_module.train(ours, 30)
    assert record(name, "final loss, dropout on", relative(final_ours, final_theirs)) <= 0.1


@pytest.mark.parametrize("name", ["lstm_lm", "gru_lm"])
def test_recurrent_lm_carries_its_state_from_step_to_step(name):
    """Feeding a sequence one token at a time, carrying the state, gives the logits of
    the whole sequence at once; and the same numbers in both engines."""
    results = []
    theirs_module, theirs, ours_module, ours = twin_models(name, dropout=0.0)
    for module, model in ((theirs_module, theirs), (ours_module, ours)):
        model.eval()
        x = module.make_batch(3)[0][:2, :6]
        whole, _ = model(x, None)
        state, steps = None, []
        for t in range(x.size(1)):
            out, state = model(x[:, t:t + 1], state)
            steps.append(array(out))
        assert relative(np.concatenate(steps, axis=1), array(whole)) <= RTOL
        results.append(array(whole))
    assert record(name, "stateful logits", relative(results[1], results[0])) <= RTOL
    text = ours_module.generate(ours)
    assert isinstance(text, str) and len(text) > 10


def test_resnet_shuffles_each_epoch_reproducibly():
    """DataLoader(shuffle=True, generator=torch.Generator().manual_seed(0)): every epoch
    a permutation, another each epoch, the same ones again from the same seed (not
    torch's: chainrule's generator is not torch's)."""
    _, _, ours_module, _ = twin_models("resnet_bn")
    DataLoader, TensorDataset = ours_module.DataLoader, ours_module.TensorDataset
    index = cr.arange(40)

    def epochs():
        loader = DataLoader(TensorDataset(index), batch_size=16, shuffle=True,
                            generator=cr.Generator().manual_seed(0))
        return [np.concatenate([array(b) for (b,) in loader]) for _ in range(3)]

    first, again = epochs(), epochs()
    for order in first:
        assert sorted(order) == list(range(40))
    assert not np.array_equal(first[0], first[1])
    assert all(np.array_equal(a, b) for a, b in zip(first, again))


def test_resnet_batchnorm_eval_uses_the_running_statistics_alike():
    theirs_module, theirs, ours_module, ours = twin_models("resnet_bn")
    for seed in range(3):  # a few training-mode passes move the running statistics
        theirs_module.loss_fn(theirs, theirs_module.make_batch(seed))
        ours_module.loss_fn(ours, ours_module.make_batch(seed))
    assert int(ours.bn1.num_batches_tracked) == int(theirs.bn1.num_batches_tracked) == 3
    theirs.eval()
    ours.eval()
    batch_theirs, batch_ours = theirs_module.make_batch(9), ours_module.make_batch(9)
    with torch.no_grad():
        out_theirs = theirs(batch_theirs[0])
    with cr.no_grad():
        out_ours = ours(batch_ours[0])
    assert record("resnet_bn", "eval-mode logits", relative(array(out_ours),
                                                              array(out_theirs))) <= RTOL


def test_gan_gradient_penalty_is_a_gradient_of_a_gradient():
    """The critic's loss reaches its weights through the penalty's autograd.grad
    (create_graph=True): with the penalty alone, the gradients still agree, and
    they are not zero."""
    theirs_module, theirs, ours_module, ours = twin_models("gan_gp")
    grads = []
    for module, model in ((theirs_module, theirs), (ours_module, ours)):
        real, noise, alpha = module.make_batch(4)
        fake = model.netG(noise).detach()
        penalty = module.calc_gradient_penalty(model.netD, real, fake, alpha)
        penalty.backward()
        grads.append([None if p.grad is None else array(p.grad) for p in model.netD.parameters()])
        assert all(p.grad is None for p in model.netG.parameters())
    # The last bias does not move the critic's input gradient: no gradient reaches it.
    # The hidden biases reach it only through ReLU's mask, whose derivative is zero:
    # torch's grad is a tensor of zeros there, and so is chainrule's.
    for g_theirs, g_ours in zip(*grads):
        if g_theirs is None or g_ours is None:
            assert g_ours is None and g_theirs is None
            continue
        if not g_theirs.any():  # reached only through a mask: zeros in both
            assert not g_ours.any()
            continue
        assert record("gan_gp", "penalty-only gradient", relative(g_ours, g_theirs)) <= RTOL
    assert tuple(ours_module.sample(ours, n=10).shape) == (10, 2)


def test_seq2seq_greedy_decoding_and_attention_agree():
    theirs_module, theirs, ours_module, ours = twin_models("seq2seq_attention", dropout=0.0)
    theirs.eval()
    ours.eval()
    ids_theirs, attn_theirs = theirs_module.evaluate(theirs, theirs_module.make_batch(5)[0])
    ids_ours, attn_ours = ours_module.evaluate(ours, ours_module.make_batch(5)[0])
    np.testing.assert_array_equal(array(ids_ours), array(ids_theirs))
    weights = array(attn_ours)
    assert weights.shape == (16, 7, 7)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-5)
    assert record("seq2seq_attention", "attention weights",
                  relative(weights, array(attn_theirs))) <= RTOL


@pytest.mark.parametrize("engine", [torch, cr])
def test_a_gradient_through_relu_depends_on_its_input_as_in_torch(engine):
    x = engine.tensor([1.0, -2.0, 3.0], requires_grad=True)
    b = engine.zeros(3, requires_grad=True)
    (g,) = engine.autograd.grad(engine.relu(x + b).sum(), x, create_graph=True)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_array_equal(array(b.grad), [0.0, 0.0, 0.0])
