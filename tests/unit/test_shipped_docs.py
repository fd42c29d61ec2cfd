# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every link and every file path in the Markdown the tarball ships is valid where it is
read: in the installed collection, and on Galaxy's page.

- README.md and the role READMEs are rendered by Galaxy, where a relative link leads
  nowhere: their links are absolute (or anchors of the same page).
- Other shipped docs may link relatively, to a file the tarball ships.
- A link into the repository (galaxy.yml's ``repository`` URL, ``/blob/main/`` or
  ``/tree/main/``) names a file or directory that exists in this checkout.
- An anchor names a heading of its page (GitHub's slugs).
- A path in backticks that starts at the collection's root (``roles/...``,
  ``scripts/...``) names a shipped file or directory; for a file of the development tree,
  link to it in the repository instead.
- ``make`` targets, which need a clone, appear only in README's development section.

Run: python -m pytest tests/unit/test_shipped_docs.py -q
"""

import re
from pathlib import Path

import pytest
import yaml

from tests.support import collection

ROOT = collection.REPO
SHIPPED = collection.expected_members(ROOT)
SHIPPED_DIRS = {str(Path(name).parent) for name in SHIPPED} | {
    str(parent) for name in SHIPPED for parent in Path(name).parents}
MARKDOWN = sorted(name for name in SHIPPED if name.endswith('.md'))
GALAXY_PAGES = {'README.md'} | {name for name in MARKDOWN if re.fullmatch(r'roles/[^/]+/README\.md', name)}
with open(ROOT / 'galaxy.yml', encoding='utf-8') as _handle:
    REPOSITORY = yaml.safe_load(_handle)['repository'].rstrip('/')
# First path components of the repository's own tree (shipped or not).
TOPS = ('roles', 'plugins', 'playbooks', 'meta', 'docs', 'awx', 'changelogs', 'inventories', 'LICENSES',
        'tests', 'scripts', 'molecule', 'benchmarks', 'ee', '.ci')
TOP_FILES = ('Makefile', 'galaxy.yml', 'requirements-dev.txt', 'CONTRIBUTING.md', 'SECURITY.md', 'CHANGELOG.rst')
LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)\)|<(https?://[^>]+)>')
CODE_PATH = re.compile(r'`((?:%s)/[^`\s]*|%s)`' % (
    '|'.join(re.escape(t) for t in TOPS), '|'.join(re.escape(f) for f in TOP_FILES)))


def _text(name):
    return (ROOT / name).read_text(encoding='utf-8')


def _prose(text):
    """The text outside fenced code blocks."""
    return re.sub(r'^```.*?^```', '', text, flags=re.M | re.S)


def _slug(heading):
    slug = re.sub(r'[^\w\- ]', '', heading.strip().lower())
    return slug.replace(' ', '-')


def _anchors(text):
    anchors = set()
    for heading in re.findall(r'^#{1,6} (.+)$', _prose(text), re.M):
        slug = _slug(re.sub(r'`', '', heading))
        number = 0
        while (slug if number == 0 else '{0}-{1}'.format(slug, number)) in anchors:
            number += 1
        anchors.add(slug if number == 0 else '{0}-{1}'.format(slug, number))
    return anchors


def _exists_in_checkout(path):
    return (ROOT / path).exists()


@pytest.mark.parametrize('name', MARKDOWN)
def test_links_lead_somewhere(name):
    text = _prose(_text(name))
    problems = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        target, dummy, anchor = target.partition('#')
        if target.startswith(('http://', 'https://', 'mailto:')):
            if target.startswith(REPOSITORY + '/'):
                rest = target[len(REPOSITORY) + 1:]
                kind, dummy, path = rest.partition('/main/')
                if kind in ('blob', 'tree'):
                    if not _exists_in_checkout(path):
                        problems.append('{0}: not in the repository'.format(target))
                    elif anchor and path.endswith('.md') and anchor not in _anchors(_text(path)):
                        problems.append('{0}#{1}: no such heading'.format(target, anchor))
            continue
        if not target:
            if anchor not in _anchors(_text(name)):
                problems.append('#{0}: no such heading in {1}'.format(anchor, name))
            continue
        if name in GALAXY_PAGES:
            problems.append('{0}: relative link on a page Galaxy renders (use {1}/blob/main/...)'.format(target, REPOSITORY))
            continue
        resolved = (Path(name).parent / target)
        resolved = Path(*[p for p in resolved.parts if p != '.'])
        parts = []
        for part in resolved.parts:
            if part == '..':
                if parts:
                    parts.pop()
            else:
                parts.append(part)
        path = '/'.join(parts)
        if path not in SHIPPED and path.rstrip('/') not in SHIPPED_DIRS:
            problems.append('{0}: {1} is not in the tarball (link to the repository instead)'.format(target, path))
        elif anchor and path.endswith('.md') and anchor not in _anchors(_text(path)):
            problems.append('{0}#{1}: no such heading'.format(target, anchor))
    assert not problems, problems


@pytest.mark.parametrize('name', MARKDOWN)
def test_paths_named_are_shipped(name):
    text = _text(name)
    # Paths inside links were judged as links.
    text = LINK.sub('', text)
    problems = []
    for path in sorted(set(CODE_PATH.findall(text))):
        clean = path.split(' ')[0].rstrip('/').split('#')[0]
        if '*' in clean or '<' in clean:
            base = re.split(r'[*<]', clean)[0].rstrip('/')
            ok = base in SHIPPED_DIRS or base in SHIPPED
        else:
            ok = clean in SHIPPED or clean in SHIPPED_DIRS
        if not ok:
            problems.append(path)
    assert not problems, 'not in the tarball (name a shipped file, or link to it in the repository): {0}'.format(problems)


@pytest.mark.parametrize('name', MARKDOWN)
def test_make_targets_only_in_the_development_section(name):
    text = _text(name)
    if name == 'README.md':
        text = re.sub(r'^## Development\n.*?(?=^## |\Z)', '', text, flags=re.M | re.S)
    # As a command: in backticks, or a line of a code block.
    code = '\n'.join(re.findall(r'^```.*?^```', text, flags=re.M | re.S))
    found = sorted(set(re.findall(r'`(make [a-z][a-z0-9-]*)', text) + re.findall(r'^\s*(make [a-z][a-z0-9-]*)', code, re.M)))
    assert not found, '{0} needs a clone of the repository: {1}'.format(name, found)
