# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make ``ansible_collections.virinco.pywats`` importable when pytest runs straight from a checkout.

ansible-test runs unit tests from inside ``ansible_collections/virinco/pywats``, where the import
already works; a plain ``pytest`` in a checkout named anything else does not. Then a temporary
``ansible_collections/virinco/pywats`` symlink to the repository root goes first on sys.path.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import atexit
import importlib
import os
import shutil
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _resolves_here():
    try:
        package = importlib.import_module('ansible_collections.virinco.pywats')
    except ImportError:
        return False
    paths = list(getattr(package, '__path__', []))
    return any(os.path.realpath(path) == os.path.realpath(REPO_ROOT) for path in paths)


def _link_collection():
    top = tempfile.mkdtemp(prefix='virinco-pywats-units-')
    atexit.register(shutil.rmtree, top, True)
    namespace = os.path.join(top, 'ansible_collections', 'virinco')
    os.makedirs(namespace)
    os.symlink(REPO_ROOT, os.path.join(namespace, 'pywats'))
    sys.path.insert(0, top)
    # A namespace package recomputes its __path__ from sys.path; a fixed list needs the new entry by hand.
    loaded = sys.modules.get('ansible_collections')
    if loaded is not None and isinstance(getattr(loaded, '__path__', None), list):
        loaded.__path__.insert(0, os.path.join(top, 'ansible_collections'))
    for name in [n for n in sys.modules if n.startswith('ansible_collections.virinco')]:
        del sys.modules[name]
    importlib.invalidate_caches()


if not _resolves_here():
    _link_collection()
