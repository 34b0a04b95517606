"""The command line: `--help` names the command the way the user started it, and the README
names it the same ways (`python -m minigrad`, and the `minigrad` script pyproject installs)."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _usage_prog(help_text: str) -> str:
    """'python -m minigrad' from 'usage: python -m minigrad [-h] COMMAND ...'."""
    match = re.match(r"usage: (.+?) \[-h\]", help_text)
    assert match, help_text
    return match.group(1)


def _help_of(argv0: str) -> str:
    """What --help prints when the program was started as `argv0` (sys.argv[0])."""
    code = (
        "import sys\n"
        f"sys.argv[0] = {argv0!r}\n"
        "from minigrad.__main__ import main\n"
        "sys.exit(main(['--help']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_cli_python_m_help_names_the_command_the_readme_runs():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "minigrad", "--help"], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    prog = _usage_prog(run.stdout)
    assert prog == "python -m minigrad"
    commands = re.findall(r"python -m minigrad (\w+)", README)
    assert commands, "the README runs no `python -m minigrad` command"
    for command in set(commands):
        assert re.search(rf"^\s+{command}\s", run.stdout, re.M), (
            f"the README runs `python -m minigrad {command}`, which --help does not list"
        )


def test_cli_console_script_help_says_minigrad_as_the_readme_does():
    pyproject = (ROOT / "pyproject.toml").read_text()  # (tomllib is 3.11+; we support 3.10)
    scripts = re.search(r"^\[project\.scripts\]\n(.*?)(?:\n\[|\Z)", pyproject, re.M | re.S)
    target = re.search(r'^minigrad = "(.+)"$', scripts.group(1), re.M)
    assert target, "pyproject.toml installs no `minigrad` command"
    module, function = target.group(1).split(":")
    assert getattr(importlib.import_module(module), function).__name__ == "main"
    # The console script pip writes sets sys.argv[0] to its own path, then calls main().
    for path in ("/venv/bin/minigrad", "/venv/Scripts/minigrad.exe"):
        assert _usage_prog(_help_of(path)) == "minigrad", path
    assert "`minigrad demo`" in README and "`minigrad` command" in README


def test_cli_program_name_follows_argv0(monkeypatch):
    from minigrad.__main__ import program_name

    monkeypatch.setattr(sys, "argv", ["/usr/lib/python3/site-packages/minigrad/__main__.py"])
    assert program_name() == "python -m minigrad"
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/minigrad"])
    assert program_name() == "minigrad"
