"""What the app's page asks for and what its start-up log says: no request to a CDN (the
page template without its Font Awesome links), a notebook Voila trusts (signed with a key
of a private folder), typed dictionary settings instead of the deprecated string form."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.sign import NotebookNotary

from genwidgets.app import AppSettings, app_notebook
from genwidgets.app.launcher import local_template, sign_notebook, voila_argv


def test_the_page_template_links_to_no_other_host(tmp_path):
    from voila.paths import collect_template_paths

    paths = collect_template_paths(["voila", "nbconvert"], "lab", prune=True)
    original = next(Path(p) / "index.html.j2" for p in paths
                    if (Path(p) / "index.html.j2").is_file())
    assert "cdn.jsdelivr.net" in original.read_text()  # what Voila's own page links to
    out = local_template(tmp_path, paths)
    page = (out / "index.html.j2").read_text()
    assert "cdn.jsdelivr.net" not in page and 'href="http' not in page
    assert "{%- extends" in page and "notebook_css" in page  # the rest of the page kept


def test_the_app_notebook_is_trusted_by_a_notary_of_the_same_folder(tmp_path):
    notebook = app_notebook(tmp_path / "runs")
    sign_notebook(notebook, tmp_path)
    path = tmp_path / "studio.ipynb"
    nbformat.write(notebook, path)
    notary = NotebookNotary(data_dir=str(tmp_path))  # as Voila's, given the same folder
    assert notary.check_signature(nbformat.read(path, as_version=4))
    (tmp_path / "elsewhere").mkdir()
    other = NotebookNotary(data_dir=str(tmp_path / "elsewhere"))
    assert not other.check_signature(nbformat.read(path, as_version=4))
    settings = AppSettings(runs=tmp_path)
    argv = voila_argv(settings, path, trust=tmp_path)
    assert f"--NotebookNotary.data_dir={tmp_path}" in argv and argv[-1] == str(path)


def test_dictionary_settings_are_typed_config_not_deprecated_strings(tmp_path):
    settings = AppSettings(runs=tmp_path)
    assert not [o for o in settings.voila_options() if "={" in o]  # traitlets' old form
    config = settings.voila_config()
    assert config["Voila"]["tornado_settings"]["disable_check_xsrf"] is True
    assert config["IdentityProvider"]["cookie_options"] == {"samesite": "Strict"}
    assert "--KernelManager.transport=ipc" in settings.voila_options()
