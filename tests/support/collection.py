"""Build this collection's tarball the way a release or an AWX project update does,
and read what it ships."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What a user of the collection gets, by top-level entry; every other path in the
# tarball is a packaging defect. docs/, awx/ (the surveys awx_configure reads) and
# inventories/example/ (the README's starting point for a fleet) are for users too.
SHIPPED_DIRS = ('roles', 'plugins', 'playbooks', 'meta', 'docs', 'awx', 'changelogs', 'inventories', 'LICENSES')
# The lint configuration ships, so that the tarball lints as this tree does.
LINT_CONFIG = ('.ansible-lint', '.ansible-lint-ignore', '.yamllint')
SHIPPED_FILES = ('README.md', 'LICENSE', 'CHANGELOG.rst', 'CHANGELOG.md', 'SECURITY.md') + LINT_CONFIG
# Parts of the shipped directories that are for development only.
DEV_ONLY = ('changelogs/fragments', 'inventories/local', 'docs/testing.md')
# Written by ansible-galaxy into every tarball.
GENERATED = ('MANIFEST.json', 'FILES.json')


def _tool(name):
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def build(source, output_dir, env=None):
    """`ansible-galaxy collection build` of the tree at source; the tarball's path."""
    result = subprocess.run(
        [_tool('ansible-galaxy'), 'collection', 'build', '--force', '--output-path', str(output_dir), str(source)],
        capture_output=True, text=True, timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    tarballs = list(Path(output_dir).glob('virinco-pywats-*.tar.gz'))
    assert len(tarballs) == 1, (tarballs, result.stdout + result.stderr)
    return tarballs[0]


def members(tarball):
    """The regular files and symlinks in the tarball, as relative paths."""
    with tarfile.open(tarball) as tar:
        return {m.name.rstrip('/') for m in tar.getmembers() if not m.isdir()}


def _is_dev_artefact(relative):
    parts = relative.parts
    return (any(part.startswith('.') or part == '__pycache__' for part in parts)
            or relative.suffix in ('.pyc', '.pyo') or relative.name.endswith('~')
            or any(relative.as_posix() == d or relative.as_posix().startswith(d + '/') for d in DEV_ONLY))


def expected_members(source=REPO):
    """Every file a user needs, read from the source tree: the allow-list above minus
    caches, dotfiles and the development-only parts."""
    source = Path(source)
    expected = set(GENERATED)
    expected.update(name for name in SHIPPED_FILES if (source / name).is_file())
    for top in SHIPPED_DIRS:
        for path in (source / top).rglob('*'):
            relative = path.relative_to(source)
            if (path.is_file() or path.is_symlink()) and not _is_dev_artefact(relative):
                expected.add(relative.as_posix())
    return expected


def source_env():
    """The environment without a collections path that would shadow the build."""
    return {k: v for k, v in os.environ.items() if k not in ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_COLLECTIONS_PATHS')}
