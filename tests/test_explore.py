"""explore: the page that steps through backward, checked in Python and in a real browser.

The browser tests drive Debian's headless chromium (/usr/bin/chromium and
/usr/bin/chromedriver, installed by `make test`) with selenium, given both
paths so that nothing is downloaded. They read the page back from the DOM
and compare it with the engine's own steps, recorded by trace_backward on an
identical graph. Without chromium they fail when run as root (as CI runs
`make test`, which installs it) and skip otherwise.
"""

import importlib.util
import json
import os
import random
import re
import shutil

import pytest

import chainrule as cr
from chainrule import Value, nn
from chainrule.app import cli
from chainrule.app.explain_command import explain_model
from chainrule.debug import trace_backward
from chainrule.debug.explore import record_modules
from chainrule.scalar import MLP
from chainrule.viz import ExplorePage, explore

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
LIMIT = 2 * 1024 * 1024  # the digits MLP's page stays under 2 MB


def page_data(html):
    """The JSON the page's script reads."""
    found = re.search(r'<script type="application/json" id="explore-data">(.*?)</script>', html,
                      re.S)
    return json.loads(found.group(1).replace("<\\/", "</"))


def seed_graph():
    x = Value(3.0)
    return x, (x + 2) * x


def tensor_mlp():
    """A small tensor MLP and its loss; the same numbers on every call."""
    cr.manual_seed(0)
    model = nn.MLP(4, [5, 3])
    loss = nn.functional.cross_entropy(model(cr.randn(6, 4)), cr.tensor([0, 1, 2, 0, 1, 2]))
    return model, loss


def value_mlp():
    """A small Value MLP on one example and its squared error; the same on every call."""
    random.seed(0)
    model = MLP(2, [3, 1])
    x = [Value(0.5), Value(-1.5)]
    return model, x, (model(x) - 1.0) ** 2


# ------------------------------------------------------------------ the page, in Python

def test_the_seed_example_is_one_self_contained_page():
    x, y = seed_graph()
    page = explore(y, names={x: "x"})
    assert isinstance(page, ExplorePage) and x.grad == 8.0 and len(page.trace) == 2
    html = page.html
    assert html.startswith("<!DOCTYPE html>") and html.count("<script") == 2
    assert not re.search(r"""(src|href)=["'](?!data:)""", html), "nothing may be fetched"
    assert not re.search(r"https?://(?!www\.w3\.org/)", html), "no address but SVG's namespaces"
    data = page_data(html)
    assert [s["label"] for s in data["steps"]] == ["#1", "#2"]
    terms = [(t["input"], t["clause"], t["formula"]) for t in data["steps"][0]["terms"]]
    assert terms == [("#2", "d(a*b)/da = b = 3", "1 \u00d7 3 = 3"),
                     ("x", "d(a*b)/db = a = 5", "1 \u00d7 5 = 5")]
    assert data["steps"][1]["terms"][0]["total"]["value"] == "8.0"


def test_each_input_gets_its_own_clause_with_its_number():
    random.seed(0)
    model = MLP(2, [2, 1])
    hidden_inputs_are_values = page_data(explore((model([0.5, -1.5]) - 1.0) ** 2).html)
    clauses = [[t["clause"] for t in s["terms"]] for s in hidden_inputs_are_values["steps"]]
    assert clauses[0] == ["d(x**n)/dx = n*x**(n-1) = -2.234 with n = 2"]
    assert clauses[2] == ["d(w·x+b)/dw_0 = x_0 = -0.4049", "d(w·x+b)/dw_1 = x_1 = 0.5675",
                          "d(w·x+b)/dx_0 = w_0 = 0.02255", "d(w·x+b)/dx_1 = w_1 = -0.1901",
                          "d(w·x+b)/db = 1"]
    assert clauses[4] == ["d(w·x+b)/dw_0 = x_0 = 0.5", "d(w·x+b)/dw_1 = x_1 = -1.5",
                          "d(w·x+b)/db = 1"]  # the first layer's inputs are plain numbers
    x = Value(2.0)
    steps = page_data(explore(3 * x.tanh() - x).html)["steps"]
    assert [[t["clause"] for t in s["terms"]] for s in steps] == [
        ["d(a+b)/da = 1", "d(a+b)/db = 1"], ["d(a*b)/da = b = 3"],
        ["d(tanh(x))/dx = 1 - tanh(x)**2 = 0.07065"], ["d(a*b)/da = b = -1"]]


def test_names_either_way_and_clear_errors():
    x, y = seed_graph()
    assert page_data(explore(y, names={"x": x}).html)["steps"][0]["terms"][1]["input"] == "x"
    with pytest.raises(TypeError, match="expected a Value or a Tensor"):
        explore(3.0)
    with pytest.raises(ValueError, match="one element"):
        explore(cr.ones(3, requires_grad=True) * 2)
    with pytest.raises(ValueError, match="does not require grad"):
        explore(cr.ones(3).sum())


def test_trace_to_html_and_jupyter(tmp_path):
    x, y = seed_graph()
    with trace_backward(names={x: "x"}) as t:
        y.backward()
    html = t.to_html(path=tmp_path / "t.html")
    assert (tmp_path / "t.html").read_text(encoding="utf-8") == html
    assert [s["name"] for s in page_data(html)["steps"]] == ["#1", "#2"]
    page = explore(seed_graph()[1])
    assert page._repr_html_().startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert 'sandbox="allow-scripts"' in page._repr_html_()


def test_without_graphviz_the_steps_still_work(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    html = explore(seed_graph()[1]).html
    assert "<svg" not in html and "needs Graphviz" in html
    assert len(page_data(html)["steps"]) == 2


def test_record_modules_puts_a_modules_ops_inside_it():
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))
    with record_modules(model) as modules:
        loss = model(cr.randn(5, 4)).pow(2).mean()
    assert model[1]._forward_hooks == []  # the hooks are gone
    data = page_data(explore(loss, model=model, modules=modules).html)
    labels = {c["label"]: len(c["ids"]) for c in data["clusters"]}
    assert set(labels) == {"0: Linear", "1: BatchNorm1d", "2: ReLU", "3: Linear"}
    # its op, not just its weights (batch norm is one fused op beside its weight and bias)
    assert labels["1: BatchNorm1d"] == 3 and labels["2: ReLU"] == 1


def test_the_doctor_marks_parameters_without_gradient():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(3, 2), nn.Linear(3, 2)

        def forward(self, x):
            return self.used(x)

    model = Net()
    data = page_data(explore(model(cr.randn(4, 3)).sum(), model=model).html)["doctor"]
    status = {row["name"]: row["status"] for row in data["params"]}
    assert status == {"used.weight": "ok", "used.bias": "ok", "unused.weight": "no gradient",
                      "unused.bias": "no gradient"}
    assert all(row["ids"] for row in data["params"]), "unreached parameters are drawn too"
    assert [f["kind"] for f in data["flags"]] == ["no gradient", "no gradient"]


def test_the_digits_mlp_page_stays_small(tmp_path):
    pytest.importorskip("sklearn")
    page = explain_model(tmp_path / "digits.html", data="digits", model="mlp",
                         print=lambda *a: None)
    assert page.size < LIMIT, f"{page.size} bytes"
    data = page_data(page.html)
    assert [c["label"] for c in data["clusters"]] == ["0: Linear", "1: ReLU", "2: Linear",
                                                       "3: ReLU", "4: Linear"]


# ------------------------------------------------------------------ the command

def test_explain_an_expression(tmp_path, capsys):
    out = tmp_path / "page.html"
    assert cli.main(["explain", "(x + 2) * x", "--at", "x=3", "--out", str(out)]) == 0
    assert capsys.readouterr().out == (
        f"wrote {out} ({out.stat().st_size / 1024:.0f} kB): 2 chain-rule steps of "
        "(x + 2) * x at x = 3; x.grad = 8\n")
    assert len(page_data(out.read_text(encoding="utf-8"))["steps"]) == 2
    assert cli.main(["explain", "tanh(w * x + b) + relu(-x) ** 2 / 2", "--at", "w=0.5,x=2",
                     "--at", "b=-1", "--out", str(out)]) == 0
    assert "w.grad = 2, x.grad = 0.5, b.grad = 1" in capsys.readouterr().out


@pytest.mark.parametrize("expression, words", [
    ("__import__('os').system('true')", "is not allowed"),
    ("x.__class__", "is not allowed"),
    ("[x, x]", "is not allowed"),
    ("x if x else 1", "is not allowed"),
    ("(lambda: x)()", "is not allowed"),
    ("open('f')", "is not allowed"),
    ("relu(x, 2)", "is not allowed"),
    ("x @ x", "is not allowed"),
    ("'a' * x", "is not allowed"),
    ("True + x", "is not allowed"),
    ("y * x", "unknown name 'y': give its value with --at y=NUMBER"),
    ("relu * x", "relu is a function"),
    ("2 + 3", "has no op on an --at name"),
    ("log(x - 5)", "cannot be computed at x = 3"),
    ("x +", "cannot parse"),
])
def test_explain_refuses_anything_but_arithmetic(expression, words, tmp_path, capsys):
    assert cli.main(["explain", expression, "--at", "x=3", "--out", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("chainrule: error: explain: ") and words in err
    assert not (tmp_path / "p.html").exists()


@pytest.mark.parametrize("argv, words", [
    (["explain"], 'give an expression, e.g. chainrule explain "(x + 2) * x" --at x=3'),
    (["explain", "x * x", "--at", "x"], "--at expects NAME=NUMBER, like x=3, got 'x'"),
    (["explain", "x * x", "--at", "x=three"], "--at x: 'three' is not a number"),
    (["explain", "x * x", "--data", "moons"], "not both"),
    (["explain", "--data", "mnist"], "unknown dataset 'mnist'"),
])
def test_explain_usage_errors_are_one_line(argv, words, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_explain_a_model_on_one_batch(tmp_path, capsys):
    out = tmp_path / "moons.html"
    assert cli.main(["explain", "--data", "moons", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "chain-rule steps of mlp on moons: one batch of 10, initial weights" in printed
    assert page_data(out.read_text(encoding="utf-8"))["doctor"]["verdict"] == "ok"


# ------------------------------------------------------------------ in a real browser

READ = """
var q = function (s) { return Array.prototype.slice.call(document.querySelectorAll(s)); };
var node = document.getElementById("step-node"), up = document.getElementById("upstream");
return {counter: document.getElementById("step-counter").textContent,
  node: node && node.textContent, ids: node && node.getAttribute("data-ids"),
  upstream: up && up.getAttribute("data-value"),
  terms: q("#terms .term").map(function (li) { var r = li.querySelector(".term-rule");
    return {input: li.getAttribute("data-input"), clause: r && r.textContent,
            value: li.getAttribute("data-value"),
            text: li.querySelector(".term-contribution").textContent}; }),
  sums: q("#sums .sum").map(function (li) {
    return {name: li.getAttribute("data-name"), value: li.getAttribute("data-value"),
            text: li.firstChild.textContent}; }),
  current: q(".view:not([hidden]) g.node.current").map(function (g) {
    return g.getAttribute("data-id"); })};
"""


def _missing():
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if shutil.which("dot") is None:
        missing.append("Graphviz's dot")
    if importlib.util.find_spec("selenium") is None:
        missing.append('selenium (pip install -e ".[test]")')
    return missing


@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        message = (f"the explore page's browser tests need {', '.join(missing)}: `make test` "
                   "installs them (apt-get install chromium chromium-driver graphviz, as root)")
        if os.geteuid() == 0:  # as CI runs `make test`, which installs them: a real failure
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,850"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    offline = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager never downloads
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    if offline is None:
        del os.environ["SE_OFFLINE"]
    else:
        os.environ["SE_OFFLINE"] = offline


def open_page(driver, page, tmp_path, name="page.html"):
    """Load the page from a file; no console errors, and nothing but the file itself fetched."""
    path = page.save(tmp_path / name)
    driver.get_log("performance")
    driver.get("file://" + os.path.abspath(path))
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    fetched = [json.loads(entry["message"])["message"]["params"]["request"]["url"]
               for entry in driver.get_log("performance")
               if '"Network.requestWillBeSent"' in entry["message"]]
    assert all(url.startswith(("file://", "data:")) for url in fetched), fetched
    assert driver.execute_script("return window.chainruleExplore.steps") == len(page.trace)
    return driver


def read(driver):
    return driver.execute_script(READ)


def test_the_seed_example_step_by_step_in_the_browser(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    x, y = seed_graph()
    page = explore(y, names={x: "x"})
    driver = open_page(browser, page, tmp_path)
    assert read(driver)["counter"] == "0 / 2" and read(driver)["sums"] == []
    driver.find_element("id", "next").click()
    one = read(driver)
    assert one["node"] == "#1  *" and one["upstream"] == "1.0"
    assert [(t["input"], t["clause"], t["value"], t["text"]) for t in one["terms"]] == [
        ("#2", "d(a*b)/da = b = 3", "3.0", "#2 += 1 \u00d7 3 = 3"),
        ("x", "d(a*b)/db = a = 5", "5.0", "x += 1 \u00d7 5 = 5")]
    assert sorted(one["current"]) == sorted(one["ids"].split())  # the node is highlighted
    driver.find_element("tag name", "body").send_keys(Keys.ARROW_RIGHT)
    two = read(driver)
    assert two["counter"] == "2 / 2" and two["node"] == "#2  +" and two["upstream"] == "3.0"
    assert [(t["input"], t["clause"], t["value"]) for t in two["terms"]] == [
        ("x", "d(a+b)/da = 1", "3.0")]
    sums = {s["name"]: s for s in two["sums"]}
    assert sums["x"]["text"] == "x.grad = 5 + 3 = 8" and float(sums["x"]["value"]) == x.grad
    driver.find_element("tag name", "body").send_keys(Keys.HOME)
    assert read(driver)["counter"] == "0 / 2"
    driver.execute_script("var s = document.getElementById('slider'); s.value = 1;"
                          "s.dispatchEvent(new Event('input'));")
    assert read(driver)["node"] == "#1  *"
    assert driver.save_screenshot(str(tmp_path / "explore_seed.png"))


def test_paths_that_meet_add_up_in_the_browser(browser, tmp_path):
    x = Value(3.0)
    driver = open_page(browser, explore(x * x, names={x: "x"}), tmp_path)
    driver.find_element("id", "last").click()
    state = read(driver)
    assert [t["text"] for t in state["terms"]] == ["x += 1 \u00d7 3 = 3", "x += 1 \u00d7 3 = 3"]
    assert state["sums"][0]["text"] == "x.grad = 3 + 3 = 6" and x.grad == 6.0


def _check_every_step(driver, engine_trace, exact):
    """Step k of the page shows step k of the engine; the running sums end at ``.grad``."""
    driver.find_element("id", "first").click()
    for step in engine_trace:
        driver.find_element("id", "next").click()
        state = read(driver)
        assert state["node"].split()[:2] == [f"#{step.index}", step.op] or (
            state["node"].startswith(f"#{step.index} ") and state["node"].endswith(step.op))
        assert [t["input"] for t in state["terms"]] == list(step.inputs)
        shown = [float(t["value"]) for t in state["terms"]]
        if exact:  # a Value's numbers are printed exactly (repr)
            assert float(state["upstream"]) == step.grad
            assert shown == list(step.contributions)
        else:  # a tensor's numbers are its norms
            assert float(state["upstream"]) == pytest.approx(_norm(step.grad), rel=1e-6)
            assert shown == pytest.approx([_norm(c) for c in step.contributions], rel=1e-6)
    return {s["name"]: float(s["value"]) for s in read(driver)["sums"]}


def _norm(array):
    import numpy as np
    return float(np.linalg.norm(np.asarray(array, dtype=np.float64).ravel()))


def test_a_tensor_mlp_in_the_browser(browser, tmp_path):
    model, loss = tensor_mlp()
    with trace_backward(model=model) as engine:  # the engine's steps, on an identical graph
        loss.backward()
    model_again, loss_again = tensor_mlp()
    page = explore(loss_again, model=model_again)
    driver = open_page(browser, page, tmp_path)
    sums = _check_every_step(driver, engine, exact=False)
    for name, p in model_again.named_parameters():
        assert sums[name] == pytest.approx(_norm(p.grad.array), rel=1e-6)
    assert driver.save_screenshot(str(tmp_path / "explore_tensor_mlp.png"))


def test_a_value_mlp_in_the_browser(browser, tmp_path):
    model, x, loss = value_mlp()
    with trace_backward(names={x[0]: "x0", x[1]: "x1"}) as engine:
        loss.backward()
    model_again, x_again, loss_again = value_mlp()
    page = explore(loss_again, names={x_again[0]: "x0", x_again[1]: "x1"})
    driver = open_page(browser, page, tmp_path)
    sums = _check_every_step(driver, engine, exact=True)
    assert sums["x0"] == x_again[0].grad and sums["x1"] == x_again[1].grad
    leaves = {name: node for name, node, _ in engine.leaves()}
    assert {name: sums[name] for name in leaves} == {name: n.grad for name, n in leaves.items()}


def test_hover_modules_and_the_doctor_in_the_browser(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    pytest.importorskip("sklearn")
    page = explain_model(tmp_path / "d.html", data="digits", model="mlp", print=lambda *a: None)
    driver = open_page(browser, page, tmp_path)
    weight = driver.execute_script(
        "return Array.prototype.filter.call(document.querySelectorAll('#view-expanded g.node'),"
        " function (g) { return /0\\.weight/.test(g.textContent); })[0];")
    ActionChains(driver).move_to_element(weight).perform()
    tip = driver.find_element("id", "tooltip")
    assert tip.is_displayed() and "shape (256, 64), float32" in tip.text
    assert len(tip.find_elements("tag name", "canvas")) == 2  # heat maps of data and grad
    driver.find_element("id", "collapse-all").click()
    boxes = driver.find_elements("css selector", "#view-collapsed g.node.module")
    assert len(boxes) == 5 and driver.find_element("id", "view-collapsed").is_displayed()
    driver.find_element("id", "doctor-toggle").click()
    assert driver.find_element("id", "view-expanded").is_displayed()
    rows = driver.find_elements("css selector", "#doctor-table .doctor-row")
    assert [r.get_attribute("data-status") for r in rows] == ["ok"] * 6
    assert driver.save_screenshot(str(tmp_path / "explore_digits.png"))
