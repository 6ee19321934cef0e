"""Files named on a command line."""

from pathlib import Path

from django.core.management.base import CommandError


def yaml_files(paths: list[str]) -> list[Path]:
    """Files named, and the *.yaml / *.yml files of folders named."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{raw}: no such file or folder")
    return files
