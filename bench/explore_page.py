"""The explore page in a real browser: how big it is, how fast it opens, and what it looks like.

Builds the pages of ``chainrule explain``: the digits MLP on one batch of 64
(the size issue 11 bounds: under 2 MB), the digits CNN, and the small
examples the tests step through. Each is opened ``--rounds`` times in
Debian's headless chromium (selenium, with /usr/bin/chromium and
/usr/bin/chromedriver given, so nothing is downloaded); printed per page:
its size, and the median time from navigation start to the load event and
to the page's script being ready (the browser's own clock, so selenium's
round trips are not counted). With ``--screenshots DIR`` it writes the
screenshots of docs/explore.md and the README (``explore_*.png``).

    python bench/explore_page.py [--rounds 5] [--screenshots docs/images]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile

import chainrule as cr
from chainrule import Value, nn
from chainrule.app.explain_command import explain_expression, explain_model
from chainrule.debug.explore import record_modules
from chainrule.scalar import MLP
from chainrule.viz import explore

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WINDOW = (1400, 850)
TIMING = """
var nav = performance.getEntriesByType("navigation")[0];
return [nav.domContentLoadedEventEnd, nav.loadEventEnd, window.chainruleExplore.ready];
"""


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never download a driver
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def pages(folder):
    """``[(name, path, what to do before the screenshot)]``."""
    quiet = lambda *args: None  # noqa: E731
    out = []
    path = os.path.join(folder, "digits_mlp.html")
    explain_model(path, data="digits", model="mlp", print=quiet)
    hover = ("var g = Array.prototype.filter.call(document.querySelectorAll("
             "'#view-expanded g.node'), function (g) {"
             " return /0\\.weight/.test(g.textContent); })[0];"
             "g.dispatchEvent(new MouseEvent('mouseenter'));"
             "var r = g.getBoundingClientRect();"
             "g.dispatchEvent(new MouseEvent('mousemove',"
             " {clientX: r.right - 40, clientY: r.top + 10}));")
    out.append(("digits_mlp", path, [("go", 2), ("js", hover)]))
    path = os.path.join(folder, "digits_cnn.html")
    explain_model(path, data="digits", model="cnn", print=quiet)
    out.append(("digits_cnn", path, [("go", 20)]))
    path = os.path.join(folder, "seed.html")
    explain_expression("(x + 2) * x", ["x=3"], path, print=quiet)
    out.append(("seed", path, [("go", 1)]))
    x = Value(3.0)
    path = explore(x * x, names={x: "x"}).save(os.path.join(folder, "x_times_x.html"))
    out.append(("x_times_x", path, [("go", 1)]))
    cr.manual_seed(0)
    model = nn.MLP(4, [5, 3])
    with record_modules(model) as modules:
        loss = nn.functional.cross_entropy(model(cr.randn(6, 4)), cr.tensor([0, 1, 2, 0, 1, 2]))
    path = explore(loss, model=model, modules=modules, names={loss: "loss"},
                   title="a tensor MLP(4, [5, 3]) with cross-entropy").save(
        os.path.join(folder, "tensor_mlp.html"))
    out.append(("tensor_mlp", path, [("go", 2)]))
    random.seed(0)
    scalar = MLP(2, [3, 1])
    inputs = [Value(0.5), Value(-1.5)]
    loss = (scalar(inputs) - 1.0) ** 2
    path = explore(loss, model=scalar, names={inputs[0]: "x0", inputs[1]: "x1", loss: "loss"},
                   title="a Value MLP(2, [3, 1]) with squared error").save(
        os.path.join(folder, "value_mlp.html"))
    out.append(("value_mlp", path, [("go", 3)]))
    last = "window.chainruleExplore.go(window.chainruleExplore.steps);"
    scroll = ("document.getElementById('doctor').scrollIntoView();"
              "document.getElementById('panel').scrollTop -= 60;")
    out.append(("doctor", _doctor_page(folder), [("js", last), ("click", "doctor-toggle"),
                                                  ("js", scroll)]))
    return out


def _doctor_page(folder):
    """A deep sigmoid MLP (gradients vanish towards the input) with a layer forward() skips."""
    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            layers = []
            for _ in range(6):
                layers += [nn.Linear(16, 16), nn.Sigmoid()]
            self.body = nn.Sequential(*layers)
            self.unused = nn.Linear(16, 16)
            self.head = nn.Linear(16, 2)

        def forward(self, x):
            return self.head(self.body(x))

    cr.manual_seed(0)
    model = Deep()
    with record_modules(model) as modules:
        loss = nn.functional.cross_entropy(model(cr.randn(32, 16)), cr.randint(0, 2, (32,)))
    return explore(loss, model=model, modules=modules, names={loss: "loss"},
                   title="the doctor's view: a 6-layer sigmoid MLP and a layer forward() skips"
                   ).save(os.path.join(folder, "doctor.html"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--screenshots", metavar="DIR", default=None)
    args = parser.parse_args()
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        sys.exit(f"needs {', '.join(missing)}: apt-get install chromium chromium-driver")
    driver = browser()
    print(f"chromium headless, window {WINDOW[0]}x{WINDOW[1]}; median of {args.rounds} opens")
    print(f"{'page':<12} {'size':>9} {'DOMContentLoaded':>17} {'load':>8} {'script ready':>13}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name, path, actions in pages(folder):
                url = "file://" + os.path.abspath(path)
                times = []
                for _ in range(args.rounds):
                    driver.get("about:blank")
                    driver.get(url)
                    times.append(driver.execute_script(TIMING))
                errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
                if errors:
                    sys.exit(f"{name}: console errors: {errors}")
                dom, load, ready = (statistics.median(t[i] for t in times) for i in range(3))
                print(f"{name:<12} {os.path.getsize(path) / 1024:>6.0f} kB {dom:>14.0f} ms "
                      f"{load:>5.0f} ms {ready:>10.0f} ms")
                if args.screenshots:
                    for kind, value in actions:
                        if kind == "go":
                            driver.execute_script(f"window.chainruleExplore.go({value})")
                        elif kind == "click":
                            driver.find_element("id", value).click()
                        else:
                            driver.execute_script(value)
                    target = os.path.join(args.screenshots, f"explore_{name}.png")
                    driver.save_screenshot(target)
    finally:
        driver.quit()
    if args.screenshots:
        print(f"screenshots: {args.screenshots}/explore_*.png")


if __name__ == "__main__":
    main()
