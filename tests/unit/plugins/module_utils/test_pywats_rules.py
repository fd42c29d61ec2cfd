# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The folder and URL rules, one rule at a time, and every folder case of the bad-input matrices.

The matrices (tests/integration/bad_input/cases.yml for Linux stations, tests/windows/cases.yml for
Windows stations) hold each bad input and the exact message the role refuses it with; the dispatch
and windows stages run them through the whole role. Here the folder cases run through the rule
functions alone, with the role's defaults, and must give the same messages.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.virinco.pywats.plugins.module_utils import pywats_rules as rules

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def load(*parts):
    with open(os.path.join(REPO, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


DEFAULTS = load('roles', 'pywats_client', 'defaults', 'main.yml')
LINUX_CASES = load('tests', 'integration', 'bad_input', 'cases.yml')
LINUX_BASE = load('tests', 'integration', 'bad_input', 'base_vars.yml')
WINDOWS_CASES = load('tests', 'windows', 'cases.yml')
WINDOWS_BASE = load('tests', 'windows', 'base_vars.yml')

# vars/Windows.yml as it renders for tests/windows/facts/windows-server-2022.json.
WIN_TREES = ['C:\\Windows', 'C:\\Program Files', 'C:\\Program Files (x86)']
WIN_DIRS = ['C:\\ProgramData', 'C:\\Users']


def linux_reserved(options):
    """__pywats_client_reserved_dirs of vars/main.yml."""
    return [{'path': '/var/lib/pywats', 'what': "the client's state directory %s"},
            {'path': options['pywats_client_venv_dir'], 'what': "the client's venv %s (pywats_client_venv_dir)"},
            {'path': '/etc/pywats', 'what': "the client's configuration directory %s"},
            {'path': '/var/cache/pywats', 'what': "the role's cache directory %s"}]


def windows_reserved(options):
    """__pywats_client_reserved_dirs of vars/Windows.yml."""
    return [{'path': 'C:\\ProgramData\\pyWATS', 'what': "the client's data directory %s"},
            {'path': options['pywats_client_windows_install_dir'],
             'what': "the client's install directory %s (pywats_client_windows_install_dir)"},
            {'path': options['pywats_client_windows_venv_dir'],
             'what': "the client's venv %s (pywats_client_windows_venv_dir)"}]


def options_of(base, case):
    options = dict(DEFAULTS)
    options.update(base)
    options.update(case['vars'])
    return options


# The cases whose message comes from the watch-folder check.
LINUX_FOLDER_CASES = [c for c in LINUX_CASES if c['msg'].startswith('pywats_client_watch_folders[')]
WINDOWS_FOLDER_CASES = [c for c in WINDOWS_CASES if c.get('stop') == 'Check each watch folder of a Windows station']
WINDOWS_PATH_CASES = [c for c in WINDOWS_CASES if c.get('stop') == 'Check the Windows paths the role owns']
WINDOWS_ACCEPTED = [c for c in WINDOWS_CASES if 'msg' not in c]


def test_the_matrices_hold_the_folder_cases():
    assert len(LINUX_FOLDER_CASES) >= 16
    assert len(WINDOWS_FOLDER_CASES) >= 10
    assert len(WINDOWS_PATH_CASES) == 2


@pytest.mark.parametrize('case', LINUX_FOLDER_CASES, ids=[c['id'] for c in LINUX_FOLDER_CASES])
def test_linux_matrix_case_gives_its_exact_message(case):
    options = options_of(LINUX_BASE, case)
    problems = rules.posix_watch_folder_problems(
        options['pywats_client_watch_folders'], reserved=linux_reserved(options), owner=options['pywats_client_user'],
        mode=options['pywats_client_watch_folder_mode'])
    assert ' '.join(problems) == case['msg']


@pytest.mark.parametrize('case', WINDOWS_FOLDER_CASES, ids=[c['id'] for c in WINDOWS_FOLDER_CASES])
def test_windows_matrix_case_gives_its_exact_message(case):
    options = options_of(WINDOWS_BASE, case)
    problems = rules.win_watch_folder_problems(options['pywats_client_watch_folders'], system_trees=WIN_TREES,
                                               system_dirs=WIN_DIRS, reserved=windows_reserved(options))
    assert ' '.join(problems) == case['msg']


@pytest.mark.parametrize('case', WINDOWS_PATH_CASES, ids=[c['id'] for c in WINDOWS_PATH_CASES])
def test_windows_matrix_path_case_gives_its_exact_message(case):
    options = options_of(WINDOWS_BASE, case)
    problems = [rules.win_own_dir_problem(name, options[name])
                for name in ('pywats_client_windows_install_dir', 'pywats_client_windows_venv_dir')]
    problems.append(rules.win_python_path_problem('pywats_client_windows_python', options['pywats_client_windows_python']))
    assert ' '.join(p for p in problems if p) == case['msg']


@pytest.mark.parametrize('case', WINDOWS_ACCEPTED, ids=[c['id'] for c in WINDOWS_ACCEPTED])
def test_windows_matrix_accepted_folders_pass(case):
    options = options_of(WINDOWS_BASE, case)
    assert rules.win_watch_folder_problems(options['pywats_client_watch_folders'], system_trees=WIN_TREES,
                                           system_dirs=WIN_DIRS, reserved=windows_reserved(options)) == []
    assert rules.win_own_dir_problem('d', options['pywats_client_windows_venv_dir']) is None


def test_linux_accepted_folders_of_the_dispatch_test_pass():
    # tests/dispatch/test_bad_input.py ACCEPTED: below system directories, names that only start like ours.
    folders = [{'path': '/var/lib/factory/inbox', 'done_folder': '/srv/pywats/done', 'error_folder': '/var/log/ict/error',
                'pending_folder': '/opt/factory/pending'},
               {'path': '/mnt/share//line4/./drop/'}, {'path': '/opt/pywats/venv2'}, {'path': '/var/lib/pywats-line4'}]
    options = options_of(LINUX_BASE, {'vars': {}})
    assert rules.posix_watch_folder_problems(folders, reserved=linux_reserved(options)) == []


# --- URL masking: the matrices' URLs with credentials ----------------------------------------

@pytest.mark.parametrize('url, shown', [
    ('https://ops:Srv-Pass-77e1@wats.example.com/', 'https://***@wats.example.com/'),
    ('ops:Srv-Pass-77e1@wats.example.com', '***@wats.example.com'),
    ('http://ops:s3cret@proxy example:3128', 'http://***@proxy example:3128'),
    ('ftp://ci:Idx-Pass-0b3f@mirror.example.com/simple', 'ftp://***@mirror.example.com/simple'),
    ('https://ci:Xtra-Pass-5d2a@mirror.example.com/simple\nproxy = http://127.0.0.1:9',
     'https://***@mirror.example.com/simple\nproxy = http://127.0.0.1:9'),
    # All up to the last @: a password holding '@' or '/' stays hidden.
    ('https://u:p@ss/w@rd@host/x', 'https://***@host/x'),
    ('https://wats.example.com', 'https://wats.example.com'),
    ('', ''),
])
def test_mask_userinfo(url, shown):
    assert rules.mask_userinfo(url) == shown
    assert rules.has_userinfo(url) == ('@' in url)


def test_mask_userinfo_takes_any_value_as_text():
    assert rules.mask_userinfo(None) == 'None'


def test_every_masked_url_of_the_linux_matrix_is_in_its_message():
    cases = [c for c in LINUX_CASES if c.get('secret')]
    assert len(cases) >= 4
    for case in cases:
        url = [v for v in case['vars'].values() if case['secret'] in str(v)][0]
        url = url[0] if isinstance(url, list) else url
        masked = rules.mask_userinfo(url)
        assert case['secret'] not in masked
        assert masked.replace('\n', '\\n') in case['msg'] or masked in case['msg'], case['id']


# --- POSIX rules, one at a time ------------------------------------------------------------

@pytest.mark.parametrize('path, norm', [
    ('/', '/'), ('/.', '/'), ('/srv/..', '/'), ('//var//lib/', '/var/lib'), ('/srv/pywats/../../etc/drop', '/etc/drop'),
    ('/../..', '/'), ('/srv/./a/b/../c', '/srv/a/c'), ('inbox/x', '/inbox/x'),
])
def test_posix_normpath(path, norm):
    assert rules.posix_normpath(path) == norm


@pytest.mark.parametrize('value', ['', 'inbox', '/', '//', '/srv/in\x01', '/srv/\x7f', 42, None, ['/srv'], '/srv/in\n'])
def test_posix_refuses_what_is_not_an_absolute_path_other_than_root(value):
    problem = rules.posix_folder_problem('opt', value)
    assert problem.startswith('opt must be an absolute path other than /, such as /srv/pywats/inbox; got ')


@pytest.mark.parametrize('tree', rules.SYSTEM_TREES)
def test_posix_system_trees_are_refused_with_everything_below(tree):
    for path in (tree, tree + '/x', tree + '/x/y/'):
        assert 'must be outside %s, which belongs to the operating system' % tree in rules.posix_folder_problem('o', path)
    assert rules.posix_folder_problem('o', tree + 'x') is None or tree + 'x' in rules.SYSTEM_TREES


@pytest.mark.parametrize('tree', rules.HIDDEN_TREES)
def test_posix_hidden_trees_in_the_sandbox_and_outside(tree):
    assert 'which the service cannot see' in rules.posix_folder_problem('o', tree + '/a')
    # Outside the unit's sandbox: only the folder itself.
    assert rules.posix_folder_problem('o', tree + '/a', sandboxed=False) is None
    assert 'not the system directory %s' % tree in rules.posix_folder_problem('o', tree, sandboxed=False)


@pytest.mark.parametrize('directory', rules.SYSTEM_DIRS)
def test_posix_system_dirs_are_refused_only_as_themselves(directory):
    # '/' as given is refused as not a path of its own; '/.' is / after normalisation.
    problem = rules.posix_folder_problem('o', directory if directory != '/' else '/.', owner='svc', mode='0750')
    assert ('not the system directory %s (the role makes each watch folder owned by svc with mode 0750)' % directory
            in problem)
    assert rules.posix_folder_problem('o', directory.rstrip('/') + '/factory/inbox') is None


def test_posix_reserved_dirs_in_is_and_contains():
    reserved = [{'path': '/srv/pywats/venv/', 'what': 'the venv %s'}]
    for path in ('/srv/pywats/venv', '/srv/pywats/venv/x', '/srv/pywats', '/srv/pywats/./venv/'):
        assert rules.posix_folder_problem('o', path, reserved).startswith(
            'o must be outside the venv /srv/pywats/venv and must not contain it;')
    assert rules.posix_folder_problem('o', '/srv/pywats/venv2', reserved) is None


def test_posix_given_path_is_shown_with_what_it_is():
    assert rules.posix_folder_problem('o', '/etc/').endswith('got "/etc/".')
    assert rules.posix_folder_problem('o', '/srv/../etc').endswith('got "/srv/../etc" (that is /etc).')


def test_posix_resolved_path_is_judged_and_named():
    problem = rules.posix_folder_problem('w[0].path', '/srv/in', resolved='/etc')
    assert problem == ('w[0].path must be outside /etc, which belongs to the operating system; use a directory such as '
                       '/srv/pywats/inbox; got "/srv/in", which resolves to /etc on the station.')
    # Resolved where the text says: the message of the controller.
    assert rules.posix_folder_problem('o', '/etc/x/', resolved='/etc/x').endswith('got "/etc/x/".')
    assert rules.posix_folder_problem('o', '/srv/in', resolved='/data/in') is None


def test_posix_reserved_dir_resolved_on_the_station():
    reserved = [{'path': '/var/lib/pywats', 'what': "the client's state directory %s", 'resolved': '/data/state'}]
    assert "outside the client's state directory /var/lib/pywats" in rules.posix_folder_problem(
        'o', '/srv/in', reserved, resolved='/data/state/x')


def test_posix_trees_resolved_on_the_station():
    problem = rules.posix_folder_problem('o', '/srv/in', resolved='/var/home/ops',
                                         hidden_trees=rules.HIDDEN_TREES + ('/var/home',))
    assert 'must be outside /var/home, which the service cannot see' in problem


def test_posix_watch_folder_problems_order_and_module_path():
    folders = [{'path': '/etc', 'done_folder': '/boot', 'module_path': 'not a path'},
               {'path': '/srv/ok', 'module_path': 'pkg.mod.Class'}, {'path': '/srv/ok2', 'module_path': ''}]
    problems = rules.posix_watch_folder_problems(folders)
    assert [p.split(' ')[0] for p in problems] == [
        'pywats_client_watch_folders[0].path', 'pywats_client_watch_folders[0].done_folder',
        'pywats_client_watch_folders[0].module_path']
    assert problems[2].endswith('got "not a path".')


def test_folder_values_keeps_path_even_when_missing():
    assert rules.folder_values({'done_folder': '/a'}) == [('path', ''), ('done_folder', '/a')]


# --- Windows rules ---------------------------------------------------------------------------

@pytest.mark.parametrize('path, norm', [
    ('D:\\', 'D:\\'), ('D:/', 'D:\\'), ('D:\\WATS\\..', 'D:\\'), ('c:/program files/Vendor//drop', 'c:\\program files\\Vendor\\drop'),
    ('\\\\server\\share\\a\\..\\b', '\\\\server\\share\\b'), ('//nas/wats/done', '\\\\nas\\wats\\done'),
    ('C:\\PROGRAMDATA\\', 'C:\\PROGRAMDATA'),
])
def test_win_normpath(path, norm):
    assert rules.win_normpath(path) == norm


@pytest.mark.parametrize('value', ['/srv/in', 'D:', 'D:\\', 'D:/', 'D:\\\\', 'relative\\x', 'D:\\a|b', 'D:\\a\n', 42, None])
def test_win_refuses_what_is_not_an_absolute_path_other_than_a_drive_root(value):
    assert rules.win_folder_problem('o', value).startswith(
        'o must be an absolute Windows path other than a drive root, such as D:\\WATS\\drop or \\\\server\\share\\drop; got ')


def test_win_case_and_separators_do_not_matter():
    problem = rules.win_folder_problem('o', 'c:/WINDOWS/x', system_trees=WIN_TREES)
    assert problem.startswith('o must be outside C:\\Windows, which belongs to Windows')
    assert rules.win_folder_problem('o', 'c:\\users', system_dirs=WIN_DIRS).startswith(
        'o must be a directory of its own, such as D:\\WATS\\drop, not the system directory c:\\users')
    assert rules.win_folder_problem('o', 'C:\\Users\\Public\\WATS', system_dirs=WIN_DIRS) is None


def test_win_reserved_in_is_and_contains():
    reserved = [{'path': 'D:\\Apps\\pyWATS', 'what': 'the install directory %s'}]
    for path in ('d:\\apps\\pywats', 'D:\\Apps\\pyWATS\\x', 'D:\\Apps', 'D:/Apps/'):
        assert 'must be outside the install directory D:\\Apps\\pyWATS and must not contain it' in rules.win_folder_problem(
            'o', path, reserved=reserved)
    assert rules.win_folder_problem('o', 'D:\\Apps\\pyWATS2', reserved=reserved) is None


def test_win_unc_paths_are_fine():
    assert rules.win_folder_problem('o', '\\\\fileserver\\ict$\\line4', WIN_TREES, WIN_DIRS) is None


@pytest.mark.parametrize('value, ok', [
    ('C:\\Program Files\\pyWATS', True), ('D:\\pyWATS\\venv', True), ('C:\\Program Files', False), ('c:\\users', False),
    ('C:\\', False), ('C:\\pyWATS\\', False), ('pyWATS', False), ('C:\\a\n', False), (None, False),
])
def test_win_own_dir(value, ok):
    assert (rules.win_own_dir_problem('d', value) is None) == ok


@pytest.mark.parametrize('value, ok', [
    ('', True), ('C:\\Program Files\\Python312\\python.exe', True), ('c:\\x\\PYTHON.EXE', True), ('C:\\Python312', False),
    ('python.exe', False),
])
def test_win_python(value, ok):
    assert (rules.win_python_path_problem('p', value) is None) == ok


@pytest.mark.parametrize("value, command, expected", [
    ("-/srv/pywats/inbox/line 4", False, '"-/srv/pywats/inbox/line 4"'),
    ("/srv/pywats/Prüfstand", False, '"/srv/pywats/Prüfstand"'),
    ("/srv/a\\b", False, '"/srv/a\\\\b"'),
    ('/srv/say "hi"', False, '"/srv/say \\"hi\\""'),
    ("/srv/100%", False, '"/srv/100%%"'),
    ("/opt/$HOME/bin/pywats-client", True, '"/opt/$$HOME/bin/pywats-client"'),
    ("/opt/$HOME", False, '"/opt/$HOME"'),
])
def test_systemd_quote(value, command, expected):
    assert rules.systemd_quote(value, command=command) == expected


@pytest.mark.parametrize("url, expected", [
    ("https://pypi.org/simple", {"url": "https://pypi.org/simple", "userinfo": ""}),
    ("https://ci:t0ken@pypi.example.com/simple", {"url": "https://pypi.example.com/simple", "userinfo": "ci:t0ken"}),
    ("http://ops:p@ss/w@proxy:3128", {"url": "http://proxy:3128", "userinfo": "ops:p@ss/w"}),
    ("ops:s3cret@proxy:3128", {"url": "proxy:3128", "userinfo": "ops:s3cret"}),
])
def test_split_and_join_userinfo(url, expected):
    assert rules.split_userinfo(url) == expected
    assert rules.join_userinfo(expected["url"], expected["userinfo"]) == url
    assert rules.mask_userinfo(url) == rules.join_userinfo(expected["url"], "***" if expected["userinfo"] else "")
