"""Sphinx configuration of the qcgrad documentation.

``make test`` builds it with ``QCGRAD_DOCS_QUICK=1``: the studies' pages and notebooks are made
but not executed (the test suite runs every study in --quick mode already); ``make docs-full``
executes every study in full mode, as the published site shows it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from api_pages import filename_map, write_api_page  # noqa: E402
from benchmark_tables import write_benchmark_page  # noqa: E402

import qcgrad  # noqa: E402

project = "qcgrad"
author = "The qcgrad developers"
copyright = "2026, The qcgrad developers"
release = version = qcgrad.__version__
QUICK = os.environ.get("QCGRAD_DOCS_QUICK") == "1"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_studies/*.ipynb", "auto_studies/*.py", "auto_studies/*.zip",
                    "auto_studies/*.json", "auto_studies/*.md5"]
templates_path = ["_templates"]

autosummary_generate = True
autosummary_filename_map = filename_map()
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# A broken cross-reference fails the build (-W). Nothing needs ignoring: numpydoc's type strings
# are plain text (numpydoc_xref_param_type is off) and signatures show no type hints, so only the
# roles written in docstrings and pages are resolved, and each must name a documented object.
nitpicky = True

sphinx_gallery_conf = {
    "examples_dirs": ["../studies"],
    "gallery_dirs": ["auto_studies"],
    "filename_pattern": r".*\.py$",
    "plot_gallery": "False" if QUICK else "True",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "matplotlib_animations": False,
}

html_theme = "pydata_sphinx_theme"
html_title = f"qcgrad {version}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
html_static_path: list[str] = []

write_api_page(HERE / "api.rst")
write_benchmark_page(HERE.parent / "benchmarks" / "results", HERE / "_generated" / "benchmark_tables.rst")
