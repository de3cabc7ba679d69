"""A conditional model in the app: `genwidgets studio` (Voila) in headless Chromium.

On Data & Model the user picks the class-conditional GAN on the digits, creates a run and
trains it; on Explore the sample grid shows a label picker: picking "7" draws other
images; "same z, every label" shows a sheet of ten rows (one per digit).
"""

from __future__ import annotations

import pytest

from .harness import wait_for
from .voila import StudioServer
from .studio_page import READY, click, row, tab, when

pytestmark = pytest.mark.browser

# The sample grid's picture: its source and natural size.
PICTURE = """() => {
  const img = document.querySelector('.gw-studio img.gw-sample-images');
  return img && img.naturalWidth > 1
    ? { src: img.src, w: img.naturalWidth, h: img.naturalHeight } : null;
}"""


@pytest.fixture(scope="module")
def studio_app(chromium, tmp_path_factory):
    base = tmp_path_factory.mktemp("studio-conditional")
    server = StudioServer(base).start()
    try:
        server.wait_quiet()
        yield server
    finally:
        server.stop()


def test_a_user_draws_a_chosen_digit_and_every_digit_of_one_z(studio_app, app_page,
                                                               artifacts):
    page = app_page
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(studio_app.url)
    wait_for(page, READY, timeout=60)
    tab(page, "Data & Model")
    row(page, "model", "select").select_option("cgan")
    wait_for(page, """() => Array.from(document.querySelectorAll(
      '.gw-studio .gw-config-grid .gw-field-label')).some(
      (e) => e.innerText.includes('d_learning_rate'))""", timeout=60)  # the GAN's form
    row(page, "epochs", "input").fill("2")
    row(page, "epochs", "input").press("Enter")
    page.click(".gw-studio button.gw-create-run")
    wait_for(page, """() => {
      const d = document.querySelector('.gw-studio .gw-train-devices');
      return d && d.innerText.includes('cgan on digits'); }""", timeout=60)
    wait_for(page, READY, timeout=30)
    click(page, "train")
    when(page, "t.state === 'finished'", timeout=180)

    tab(page, "Explore")
    page.wait_for_selector(".gw-studio .gw-sample-label select", state="visible", timeout=90_000)
    first = wait_for(page, PICTURE, timeout=60)
    options = page.eval_on_selector_all(".gw-studio .gw-sample-label select option",
                                        "(os) => os.map((o) => o.textContent)")
    assert options == ["any", *map(str, range(10))], options
    page.select_option(".gw-studio .gw-sample-label select", label="7")
    seven = wait_for(page, f"() => {{ const p = ({PICTURE})(); "
                     f"return p && p.src !== {first['src']!r} && p; }}", timeout=60)
    assert seven["w"] == first["w"]  # the same 4x4 grid, of sevens
    page.click(".gw-studio .gw-sample-every-label")
    sheet = wait_for(page, f"() => {{ const p = ({PICTURE})(); "
                     f"return p && p.src !== {seven['src']!r} && p; }}", timeout=60)
    assert abs(sheet["w"] / sheet["h"] - 16 / 10) < 0.05, sheet  # 16 z across, 10 digits down
    assert page.is_disabled(".gw-studio .gw-sample-label select")
    page.screenshot(path=artifacts / "voila-conditional-every-label.png")
    assert not [m for m in page.console if "pageerror" in m or "Error setting state" in m]
