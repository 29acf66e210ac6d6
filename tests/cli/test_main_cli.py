"""The ``qcgrad`` entry point itself: ``--version`` reports the installed distribution's version."""
from importlib.metadata import version

import pytest

from qcgrad.cli import main


def test_version_is_the_installed_distributions(capsys):
    # Independent truth: the version pip recorded in the installed metadata (read from
    # qcgrad/_version.py at build time), not the module attribute the CLI prints.
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"qcgrad {version('qcgrad')}"
