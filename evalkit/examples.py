"""Where the researchers' notebooks find their default data: the synthetic programmes.

:func:`synthetic_programme` finds ``data/synthetic/<key>`` from the working directory or any
folder above it (so a notebook runs from the repository root and from ``notebooks/`` alike)
and writes it there, from the kit's fixed seed, when it is missing.
"""

from __future__ import annotations

from pathlib import Path


def _repository_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "notebooks").is_dir():
            return folder
    return None


def synthetic_programme(key: str = "cct", start: str | Path | None = None) -> Path:
    """The folder of synthetic programme ``key``.

    Parameters
    ----------
    key : str
        A synthetic programme (``"cct"``, the village campaign trial, by default).
    start : str or Path, optional
        Where to start looking (default: the working directory).

    Returns
    -------
    pathlib.Path
        ``data/synthetic/<key>`` in the working directory or the nearest folder above it
        that holds one; otherwise that folder is written (deterministically, from the kit's
        seed) under the repository root, or under the working directory outside a checkout.

    Examples
    --------
    >>> import tempfile
    >>> from evalkit.examples import synthetic_programme
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = synthetic_programme("cct", start=folder)
    ...     (path / "programme.yml").is_file(), path.name
    (True, 'cct')
    """
    from evalkit import synth
    from evalkit.synth import other_configs

    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "data" / "synthetic" / key
        if (candidate / "programme.yml").is_file():
            return candidate
    root = _repository_root(here) or here
    target = root / "data" / "synthetic"
    target.mkdir(parents=True, exist_ok=True)
    writer = synth.write_other if key in other_configs.PROGRAMMES else synth.write_programme
    return writer(key, target)
