# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The preflight module's folders check: each folder resolved on the station, with real symbolic links.

The links live in a directory of the checkout (.cache), not in /tmp: /tmp is a tree the service's
sandbox hides, so a folder there is refused as written before any link is followed. Their targets
are real: /etc, a directory in /tmp (a hidden tree), the client's state directory, an ordinary one.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import shutil
import sys
import tempfile

import pytest

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_rules as rules
from ansible_collections.virinco.pywats.plugins.modules import pywats_preflight as pf
from ansible_collections.virinco.pywats.tests.unit.plugins.modules import utils as harness
from ansible_collections.virinco.pywats.tests.unit.plugins.modules.test_pywats_preflight import FakeHost
from ansible_collections.virinco.pywats.tests.unit.plugins.modules.utils import (
    AnsibleExitJson, AnsibleFailJson, module_args)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
REMEDY = ('Point each of these options at a directory of its own, or change the symbolic link on the station so that'
          ' it leads to one')


@pytest.fixture(autouse=True)
def patch_exits(monkeypatch):
    harness.patch_exits(monkeypatch)


@pytest.fixture
def station():
    """A directory the rules accept as written, with ordinary directories and a state directory in it."""
    # The checkout's cache, unless it lies in a tree the rules refuse (a clone under /tmp
    # or /root): then a directory of its own under /var/lib, as a station would have.
    base = None
    for top in (os.path.join(REPO, '.cache'), '/var/lib'):
        try:
            os.makedirs(top, exist_ok=True)
            candidate = os.path.realpath(tempfile.mkdtemp(prefix='preflight-folders-', dir=top))
        except OSError:
            continue
        if rules.posix_folder_problem('o', candidate + '/x') is None:
            base = candidate
            break
        os.rmdir(candidate)
    if base is None:
        pytest.skip('no directory the rules accept could be made here (the checkout lies in a refused tree)')
    try:
        for name in ('ordinary', 'state'):
            os.mkdir(os.path.join(base, name))
        yield base
    finally:
        shutil.rmtree(base)


def link(station, name, target):
    path = os.path.join(station, name)
    os.symlink(target, path)
    return path


def reserved(station):
    return [{'path': os.path.join(station, 'state'), 'what': "the client's state directory %s"}]


def check(station, *folders, **kwargs):
    facts = {'folders': []}
    ok, detail, remedy = pf.check_folders(
        [{'option': 'pywats_client_watch_folders[0].%s' % key, 'path': path} for key, path in folders],
        kwargs.get('reserved', reserved(station)), 'pywats', '0770', kwargs.get('sandboxed', True), facts)
    return ok, detail, remedy, facts


def test_a_link_to_etc_is_refused_naming_option_path_and_target(station):
    given = link(station, 'in', '/etc')
    ok, detail, remedy, facts = check(station, ('path', given))
    assert not ok
    assert detail == ('pywats_client_watch_folders[0].path must be outside /etc, which belongs to the operating system;'
                      ' use a directory such as /srv/pywats/inbox; got "%s", which resolves to /etc on the station.'
                      % given)
    assert remedy == REMEDY
    assert facts['folders'] == [{'option': 'pywats_client_watch_folders[0].path', 'path': given, 'resolved': '/etc'}]


def test_the_done_folder_below_a_link_to_etc_is_refused_before_it_exists(station):
    given = os.path.join(link(station, 'in', '/etc'), 'Done')
    assert not os.path.exists('/etc/Done')
    ok, detail, remedy, facts = check(station, ('done_folder', given))
    assert not ok
    assert detail.startswith('pywats_client_watch_folders[0].done_folder must be outside /etc,')
    assert detail.endswith('got "%s", which resolves to /etc/Done on the station.' % given)


def test_a_dangling_link_is_judged_by_its_target(station):
    given = link(station, 'in', '/etc/pywats-not-there')
    ok, detail, remedy, facts = check(station, ('path', given))
    assert not ok and 'resolves to /etc/pywats-not-there on the station' in detail


def test_a_link_to_a_system_directory_itself_is_refused(station):
    given = link(station, 'in', '/var/lib')
    ok, detail, remedy, facts = check(station, ('path', given))
    assert not ok
    assert detail.startswith('pywats_client_watch_folders[0].path must be a directory of its own, such as'
                             ' /srv/pywats/inbox, not the system directory /var/lib (the role makes each watch folder'
                             ' owned by pywats with mode 0770);')


def test_a_link_into_a_hidden_tree_is_refused(station):
    hidden = tempfile.mkdtemp()  # in /tmp, which PrivateTmp hides from the service
    try:
        assert rules.posix_is_within(os.path.realpath(hidden), '/tmp')
        given = link(station, 'in', hidden)
        ok, detail, remedy, facts = check(station, ('path', given))
        assert not ok
        assert detail == ('pywats_client_watch_folders[0].path must be outside /tmp, which the service cannot see (its'
                          ' unit sets ProtectHome=yes and PrivateTmp=yes); use a directory such as /srv/pywats/inbox;'
                          ' got "%s", which resolves to %s on the station.' % (given, os.path.realpath(hidden)))
        # Outside the unit's sandbox (a container's bind mounts) a folder in /tmp is fine.
        assert check(station, ('path', given), sandboxed=False)[0]
    finally:
        shutil.rmtree(hidden)


def test_a_link_to_the_state_directory_is_refused(station):
    given = link(station, 'in', os.path.join(station, 'state'))
    ok, detail, remedy, facts = check(station, ('path', given))
    assert not ok
    assert detail == ("pywats_client_watch_folders[0].path must be outside the client's state directory %s/state and"
                      ' must not contain it; use a directory such as /srv/pywats/inbox; got "%s", which resolves to'
                      ' %s/state on the station.' % (station, given, station))


def test_a_state_directory_that_is_a_link_is_followed_too(station):
    # The state directory moved to another disk by a link: a folder in its real place is refused.
    state = link(station, 'state-link', os.path.join(station, 'ordinary'))
    ok, detail, remedy, facts = check(station, ('path', os.path.join(station, 'ordinary', 'in')),
                                      reserved=[{'path': state, 'what': "the client's state directory %s"}])
    assert not ok and "outside the client's state directory %s and must not contain it" % state in detail


def test_a_link_to_an_ordinary_directory_is_accepted_and_resolved(station):
    given = link(station, 'in', os.path.join(station, 'ordinary'))
    ok, detail, remedy, facts = check(station, ('path', given), ('done_folder', given + '/Done'))
    assert ok and remedy == ''
    assert detail == '2 folders, each a directory of its own; %s resolves to %s/ordinary; %s/Done resolves to %s/ordinary/Done' % (
        given, station, given, station)
    assert [f['resolved'] for f in facts['folders']] == [station + '/ordinary', station + '/ordinary/Done']


def test_a_folder_not_there_yet_is_judged_by_its_nearest_existing_parent(station):
    through = link(station, 'in', os.path.join(station, 'ordinary'))
    given = through + '/line4/../line5/drop/'
    ok, detail, remedy, facts = check(station, ('path', given))
    assert ok
    assert facts['folders'][0]['resolved'] == station + '/ordinary/line5/drop'
    refused = link(station, 'etc', '/etc')
    ok, detail, remedy, facts = check(station, ('path', refused + '/new/inbox'))
    assert not ok and 'which resolves to /etc/new/inbox on the station' in detail


def test_a_folder_without_links_is_judged_as_written(station):
    ok, detail, remedy, facts = check(station, ('path', station + '/ordinary/in'))
    assert ok and detail == '1 folder, a directory of its own'
    ok, detail, remedy, facts = check(station, ('path', '/srv/..'))
    assert not ok and detail.endswith('got "/srv/.." (that is /).')


def test_trees_that_are_links_on_the_station_are_followed(station):
    # As on a station whose /home links to /var/home: both are hidden.
    trees = pf.station_spellings(('/home', '/etc'), lambda p: {'/home': '/var/home'}.get(p, p))
    assert trees == ('/home', '/etc', '/var/home')


# --- through the module ----------------------------------------------------------------------

def run_main(monkeypatch, args):
    host = FakeHost()
    monkeypatch.setattr(pf, 'Host', host.attach)
    with module_args(args):
        with pytest.raises((AnsibleExitJson, AnsibleFailJson)) as info:
            pf.main()
    return info.value


def module_args_for(station, tmp_path, folders):
    return {'python': sys.executable, 'state_dir': str(tmp_path / 'state'), 'venv_dir': str(tmp_path / 'venv'),
            'min_free_mb_state': 1, 'min_free_mb_venv': 1, 'folders': folders, 'reserved_dirs': reserved(station)}


def test_module_refuses_a_link_to_etc_before_anything_changes(monkeypatch, station, tmp_path):
    given = link(station, 'in', '/etc')
    before = (os.stat('/etc').st_uid, os.stat('/etc').st_mode, sorted(os.listdir('/etc')))
    result = run_main(monkeypatch, module_args_for(station, tmp_path, [
        {'option': 'pywats_client_watch_folders[0].path', 'path': given},
        {'option': 'pywats_client_watch_folders[0].done_folder', 'path': given + '/Done'}]))
    assert isinstance(result, AnsibleFailJson)
    data = result.args[0]
    assert data['msg'] == (
        'folders: pywats_client_watch_folders[0].path must be outside /etc, which belongs to the operating system; use a'
        ' directory such as /srv/pywats/inbox; got "{0}", which resolves to /etc on the station.'
        ' pywats_client_watch_folders[0].done_folder must be outside /etc, which belongs to the operating system; use a'
        ' directory such as /srv/pywats/inbox; got "{0}/Done", which resolves to /etc/Done on the station.'
        ' Remedy: {1}'.format(given, REMEDY))
    assert data['checks'][0]['name'] == 'folders' and data['checks'][0]['severity'] == 'error'
    assert (os.stat('/etc').st_uid, os.stat('/etc').st_mode, sorted(os.listdir('/etc'))) == before


def test_module_reports_where_accepted_folders_resolve(monkeypatch, station, tmp_path):
    given = link(station, 'in', os.path.join(station, 'ordinary'))
    result = run_main(monkeypatch, module_args_for(station, tmp_path, [
        {'option': 'pywats_client_watch_folders[0].path', 'path': given}]))
    assert isinstance(result, AnsibleExitJson), result.args[0].get('msg')
    data = result.args[0]
    assert data['facts']['folders'] == [{'option': 'pywats_client_watch_folders[0].path', 'path': given,
                                         'resolved': station + '/ordinary'}]
    assert data['checks'][0]['name'] == 'folders' and data['checks'][0]['ok']


def test_module_without_folders_runs_no_folder_check(monkeypatch, station, tmp_path):
    result = run_main(monkeypatch, module_args_for(station, tmp_path, []))
    data = result.args[0]
    assert 'folders' not in [c['name'] for c in data['checks']] and 'folders' not in data['summary']['skipped']
    assert data['facts']['folders'] == []


def test_the_folder_check_cannot_be_skipped():
    assert 'folders' not in pf.argument_spec()['skip']['choices']
