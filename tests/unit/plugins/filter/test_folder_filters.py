# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filters and the test the option checks call: what they pass on to pywats_rules, and what they refuse."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.virinco.pywats.plugins.filter import mask_userinfo as mask_plugin
from ansible_collections.virinco.pywats.plugins.filter import watch_folder_problems as linux_plugin
from ansible_collections.virinco.pywats.plugins.filter import win_path_problems as win_path_plugin
from ansible_collections.virinco.pywats.plugins.filter import win_watch_folder_problems as win_plugin
from ansible_collections.virinco.pywats.plugins.test import url_with_userinfo as userinfo_plugin

RESERVED = [{'path': '/var/lib/pywats', 'what': "the client's state directory %s"}]


def linux(*args, **kwargs):
    return linux_plugin.FilterModule().filters()['watch_folder_problems'](*args, **kwargs)


def windows(*args, **kwargs):
    return win_plugin.FilterModule().filters()['win_watch_folder_problems'](*args, **kwargs)


def test_linux_filter_judges_every_folder_with_the_role_values():
    problems = linux([{'path': '/srv/..'}, {'path': '/srv/in', 'pending_folder': '/var/lib/pywats/'}],
                     reserved=RESERVED, owner='factory', mode='0750')
    assert problems == [
        'pywats_client_watch_folders[0].path must be a directory of its own, such as /srv/pywats/inbox, not the system '
        'directory / (the role makes each watch folder owned by factory with mode 0750); got "/srv/.." (that is /).',
        "pywats_client_watch_folders[1].pending_folder must be outside the client's state directory /var/lib/pywats and "
        'must not contain it; use a directory such as /srv/pywats/inbox; got "/var/lib/pywats/".']


def test_linux_filter_outside_the_sandbox():
    assert linux([{'path': '/home/ops/in'}], sandboxed=False) == []
    assert linux([{'path': '/home/ops/in'}])[0].startswith('pywats_client_watch_folders[0].path must be outside /home')


def test_linux_filter_accepts_good_folders_and_defaults():
    assert linux([{'path': '/srv/pywats/inbox', 'done_folder': '/srv/pywats/done'}]) == []
    assert linux([]) == []


@pytest.mark.parametrize('bad', ['/srv/in', {'path': '/srv/in'}, [42], None])
def test_linux_filter_refuses_what_is_not_a_list_of_dicts(bad):
    with pytest.raises(AnsibleFilterError):
        linux(bad)


def test_windows_filter():
    problems = windows([{'path': 'C:\\Windows\\Temp\\drop'}, {'path': 'D:\\ok'}],
                       system_trees=['C:\\Windows'], system_dirs=['C:\\Users'],
                       reserved=[{'path': 'D:\\ok', 'what': 'the venv %s'}])
    assert problems == [
        'pywats_client_watch_folders[0].path must be outside C:\\Windows, which belongs to Windows or to installed '
        'programs; use a directory such as D:\\WATS\\drop; got "C:\\\\Windows\\\\Temp\\\\drop".',
        'pywats_client_watch_folders[1].path must be outside the venv D:\\ok and must not contain it; use a directory '
        'such as D:\\WATS\\drop; got "D:\\\\ok".']
    assert windows([{'path': 'D:\\WATS\\drop'}]) == []
    with pytest.raises(AnsibleFilterError):
        windows({'path': 'D:\\x'})


def test_windows_path_filter():
    problems = win_path_plugin.FilterModule().filters()['win_path_problems'](
        {'pywats_client_windows_install_dir': 'C:\\Program Files\\pyWATS', 'pywats_client_windows_venv_dir': 'C:\\'},
        pythons={'pywats_client_windows_python': 'C:\\Python312'})
    assert problems == [
        'pywats_client_windows_venv_dir must be an absolute Windows path of a directory of its own, such as '
        'C:\\Program Files\\pyWATS; got "C:\\\\".',
        'pywats_client_windows_python must be empty (find one) or the full path of a python.exe, such as '
        'C:\\Program Files\\Python312\\python.exe; got "C:\\\\Python312".']
    with pytest.raises(AnsibleFilterError):
        win_path_plugin.win_path_problems(['C:\\x'])


def test_mask_userinfo_filter_and_userinfo_test():
    mask = mask_plugin.FilterModule().filters()['mask_userinfo']
    has = userinfo_plugin.TestModule().tests()['url_with_userinfo']
    assert mask('http://ops:s3cret@proxy.example.com:3128') == 'http://***@proxy.example.com:3128'
    assert mask('') == ''
    assert has('https://ops:pw@wats.example.com') is True
    assert has('https://wats.example.com') is False
    assert has(42) is False


def test_folder_options_names_the_option_of_every_folder():
    from ansible_collections.virinco.pywats.plugins.filter import folder_options as plugin
    options = plugin.FilterModule().filters()['folder_options']
    config = [{'name': 'a', 'watch_folder': '/srv/a', 'done_folder': '/srv/a/Done', 'error_folder': '/srv/err',
               'pending_folder': '/srv/a/Pending', 'post_action': 'move'}]
    assert options(config) == [
        {'option': 'pywats_client_watch_folders[0].path', 'path': '/srv/a'},
        {'option': 'pywats_client_watch_folders[0].done_folder', 'path': '/srv/a/Done'},
        {'option': 'pywats_client_watch_folders[0].error_folder', 'path': '/srv/err'},
        {'option': 'pywats_client_watch_folders[0].pending_folder', 'path': '/srv/a/Pending'}]
    assert options([]) == []
    with pytest.raises(AnsibleFilterError):
        options([{'watch_folder': '/srv/a'}])
    with pytest.raises(AnsibleFilterError):
        options('/srv/a')
