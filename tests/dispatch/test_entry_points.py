# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role's entry points and the collection's playbooks, run on the controller only.

Stations carry recorded facts (take_facts.yml) and sit behind the ``no_station`` connection, which
makes every task that would touch a station unreachable. So these runs execute exactly what the
controller does: the OS dispatch, the option checks, the includes and the tag selection.

- dry_run.yml runs an entry point (main, uninstall, status) and goes on past every unreachable
  task: the run shows every task the role loads for a station. A Linux station must load no task
  of the Windows tree (and print no warning about one), a Windows station none of the Linux tree,
  and each phase tag must select its phase's tasks and no other phase's.
- The playbooks themselves run unchanged: a host stops at the first task that needs the station,
  which shows whether ``--tags`` reached the role at all, and where the playbooks refuse tags.
- service_check_mode.yml runs the service phase in check mode against a stand-in systemctl.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os
import subprocess
import sys

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TASKS = os.path.join(REPO, 'roles', 'pywats_client', 'tasks')
FACTS = os.path.join(HERE, 'facts')
WINDOWS_FACTS = os.path.join(REPO, 'tests', 'windows', 'facts', 'windows-server-2022.json')
PLAYBOOK = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
PHASES = ('preflight', 'install', 'configure', 'service')
# The files of each Linux phase, as main.yml includes them. install.yml and configure.yml
# include the rest (packages, install source, hotfixes, SELinux, firewall) only when they
# have work to do, so a run shows their tasks only then.
LINUX_PHASE_FILES = {
    'preflight': ['preflight.yml'],
    'install': ['install.yml'],
    'configure': ['configure.yml'],
    'service': ['service.yml'],
}
TOKEN = 'ZW50cnktcG9pbnRzLXRva2Vu'
NO_LOG_WARNING = 'Invalid no_log value'


def task_names(path, rescue=True):
    """Every task name in a task file, blocks included (their rescue tasks only if asked)."""
    with open(path) as handle:
        tasks = yaml.safe_load(handle) or []
    names = set()
    stack = list(tasks)
    while stack:
        task = stack.pop()
        # A block and a static import are no tasks of their own: a run shows what they hold.
        static = any(key in task for key in ('block', 'ansible.builtin.import_tasks', 'import_tasks'))
        # A meta task reports no result of its own.
        if 'name' in task and not static and 'ansible.builtin.meta' not in task:
            names.add(task['name'])
        for key in ('block', 'rescue', 'always') if rescue else ('block', 'always'):
            stack.extend(task.get(key) or [])
    return names


def names_in(tree, files=None, rescue=True):
    folder = os.path.join(TASKS, tree)
    found = set()
    for name in sorted(files or os.listdir(folder)):
        found |= task_names(os.path.join(folder, name), rescue)
    return found


LINUX = names_in('linux')
WINDOWS = names_in('windows')
SHARED = names_in('.', [n for n in os.listdir(TASKS) if n.endswith('.yml')])
WINDOWS_ONLY = WINDOWS - LINUX - SHARED
LINUX_ONLY = LINUX - WINDOWS - SHARED
PHASE_NAMES = dict((phase, names_in('linux', files)) for phase, files in LINUX_PHASE_FILES.items())
# What a dry run shows of a phase: its tasks but the rescue ones (an ignored error starts no rescue).
PHASE_SHOWN = dict((phase, names_in('linux', files, rescue=False)) for phase, files in LINUX_PHASE_FILES.items())


def sha256(path):
    with open(path, 'rb') as handle:
        return hashlib.sha256(handle.read()).hexdigest()


class Run(object):
    """One ansible-playbook run: rc, output, and per host the role tasks it ran with their results."""

    def __init__(self, proc):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.output = proc.stdout + proc.stderr
        self.hosts = {}
        assert '{' in proc.stdout, 'no JSON report (rc %d):\n%s' % (proc.returncode, proc.stderr[-4000:])
        # One report per playbook, one after the other.
        plays, decoder, at = [], json.JSONDecoder(), proc.stdout.index('{')
        while at < len(proc.stdout):
            report, at = decoder.raw_decode(proc.stdout, at)
            plays.extend(report['plays'])
            while at < len(proc.stdout) and proc.stdout[at].isspace():
                at += 1
        for play in plays:
            for task in play['tasks']:
                name = task['task']['name'].split(' : ', 1)[-1]
                for host, result in task['hosts'].items():
                    self.hosts.setdefault(host, []).append((name, result))

    def names(self, host):
        return set(name for name, _result in self.hosts.get(host, []))

    def result(self, host, name):
        found = [result for task, result in self.hosts.get(host, []) if task == name]
        assert found, '%s ran no task %r:\n%s' % (host, name, self.stderr[-3000:])
        return found[-1]

    def first_unreachable(self, host):
        return next((name for name, result in self.hosts.get(host, []) if result.get('unreachable')), None)


def collection_tree(work):
    """A collections path under work that holds this checkout as virinco.pywats."""
    collections = os.path.join(work, 'collections')
    os.makedirs(os.path.join(collections, 'ansible_collections', 'virinco'))
    os.symlink(REPO, os.path.join(collections, 'ansible_collections', 'virinco', 'pywats'))
    return collections


@pytest.fixture(scope='module')
def ansible(tmp_path_factory):
    """Run ansible-playbook with the test plugins and an inventory of stations with recorded facts."""
    work = str(tmp_path_factory.mktemp('entry-points'))
    collections = collection_tree(work)
    # The recorded Windows facts are as ansible.windows.setup prints them, without the wrapper.
    with open(WINDOWS_FACTS) as handle:
        windows = {'ansible_facts': json.load(handle)}
    windows_facts = os.path.join(work, 'windows-server-2022.json')
    with open(windows_facts, 'w') as handle:
        json.dump(windows, handle)
    # Only its checksum is read before the first task that talks to the station.
    nssm = os.path.join(work, 'nssm.exe')
    with open(nssm, 'wb') as handle:
        handle.write(b'MZ' + os.urandom(1024))
    common = {
        'ansible_connection': 'no_station',
        'ansible_python_interpreter': sys.executable,
        'pywats_client_server_url': 'https://wats.example.com',
        'pywats_client_api_token': TOKEN,
    }
    linux_watch = [{'path': '/srv/pywats/inbox/ict', 'converter': 'teradyne_ict'}]
    stations = {
        'debian-12': dict(common, dispatch_facts_file=os.path.join(FACTS, 'debian-12.json'),
                          pywats_client_watch_folders=linux_watch),
        # SELinux on and firewalld asked for: every file of the configure phase has work.
        'rhel-9.4': dict(common, dispatch_facts_file=os.path.join(FACTS, 'rhel-9.4.json'),
                         pywats_client_watch_folders=linux_watch, pywats_client_firewall_open_health_port=True),
        # A release without hotfixes: the Windows hotfix set patches copies on the controller.
        'win2022': dict(common, dispatch_facts_file=windows_facts, ansible_shell_type='powershell',
                        pywats_client_version='0.5.0b6', pywats_client_windows_nssm_src=nssm,
                        pywats_client_windows_nssm_sha256=sha256(nssm),
                        pywats_client_watch_folders=[{'path': 'D:\\WATS\\drop'}]),
    }

    def run(playbooks, hosts, args=(), host_vars=None, extra_env=None):
        inventory = os.path.join(work, 'inventory-%d.json' % len(os.listdir(work)))
        # 'win2022-status' is the station win2022 once more, for a second entry point in the same run.
        chosen = dict((host, dict(stations[host.split('-')[0] if host.startswith('win') else host],
                                  **(host_vars or {}).get(host, {}))) for host in hosts)
        with open(inventory, 'w') as handle:
            json.dump({'pywats_stations': {'hosts': chosen}}, handle)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1',
                   ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
                   ANSIBLE_ACTION_PLUGINS=os.path.join(HERE, 'action_plugins'),
                   ANSIBLE_CONNECTION_PLUGINS=os.path.join(HERE, 'connection_plugins'),
                   ANSIBLE_RETRY_FILES_ENABLED='0', ANSIBLE_LOCAL_TEMP=os.path.join(work, 'tmp'),
                   ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_FORKS='10', **(extra_env or {}))
        for name in ('ANSIBLE_LOG_PATH', 'ANSIBLE_CALLBACKS_ENABLED'):
            env.pop(name, None)
        proc = subprocess.run([PLAYBOOK, '-i', inventory] + list(args) + list(playbooks), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              timeout=600, check=False)
        return Run(proc)

    run.work = work
    return run


def facts_then(*playbooks):
    return [os.path.join(HERE, 'take_facts.yml')] + list(playbooks)


DRY = os.path.join(HERE, 'dry_run.yml')


@pytest.fixture(scope='module')
def dry_main(ansible):
    run = ansible(facts_then(DRY), ['debian-12', 'rhel-9.4', 'win2022'],
                  host_vars=dict((h, {'dry_entry': 'main'}) for h in ('debian-12', 'rhel-9.4', 'win2022')))
    assert run.rc == 0, run.stderr[-4000:]
    return run


def test_linux_run_loads_no_windows_task_and_warns_of_none(dry_main):
    assert NO_LOG_WARNING not in dry_main.output
    assert '__pywats_client_win' not in dry_main.stderr
    for host in ('debian-12', 'rhel-9.4'):
        ran = dry_main.names(host)
        assert sorted(ran & WINDOWS_ONLY) == []
        # ... and it went through every phase of the Linux tree.
        for phase in PHASES:
            assert sorted(PHASE_SHOWN[phase] - ran) == [], phase


def test_windows_run_loads_no_linux_task(dry_main):
    ran = dry_main.names('win2022')
    assert sorted(ran & LINUX_ONLY) == []
    assert 'Check the Windows service account' in ran
    assert 'Register the service with its host, account and recovery actions' in ran


def test_preflight_stops_a_station_first(dry_main):
    # The first task that talks to a station is the preflight module, on either platform.
    assert dry_main.first_unreachable('debian-12') == 'Check that this station can run the client'
    assert dry_main.first_unreachable('win2022') == 'Check that this Windows station can run the client'


@pytest.mark.parametrize('phase', PHASES)
def test_phase_tag_selects_its_phase(ansible, phase):
    run = ansible(facts_then(DRY), ['debian-12', 'rhel-9.4'], args=['--tags', 'pywats_client_' + phase],
                  host_vars=dict((h, {'dry_entry': 'main'}) for h in ('debian-12', 'rhel-9.4')))
    assert run.rc == 0, run.stderr[-4000:]
    # Preflight runs with every phase: each phase reads what it found.
    wanted = {'preflight', phase}
    for host in ('debian-12', 'rhel-9.4'):
        ran = run.names(host)
        for other in PHASES:
            if other in wanted:
                assert sorted(PHASE_SHOWN[other] - ran) == [], (host, other)
            else:
                assert sorted((PHASE_NAMES[other] - PHASE_NAMES['preflight']) & ran) == [], (host, other)
        assert sorted(ran & WINDOWS_ONLY) == []


@pytest.fixture(scope='module')
def dry_other_entries(ansible):
    hosts = {'debian-12': {'dry_entry': 'uninstall', 'pywats_client_purge': True},
             'rhel-9.4': {'dry_entry': 'status'},
             'win2022': {'dry_entry': 'uninstall', 'pywats_client_purge': True},
             'win2022-status': {'dry_entry': 'status'}}
    run = ansible(facts_then(DRY), sorted(hosts), host_vars=hosts)
    assert run.rc == 0, run.stderr[-4000:]
    return run


def test_uninstall_runs_each_platforms_own_tree(dry_other_entries):
    run = dry_other_entries
    assert NO_LOG_WARNING not in run.output
    linux, windows = run.names('debian-12'), run.names('win2022')
    assert sorted(names_in('linux', ['uninstall.yml']) - linux) == []
    assert sorted(linux & WINDOWS_ONLY) == []
    # A Windows purge never reaches the Linux cleanup (python3 on the station's PATH).
    assert 'Remove the parent directories the role made that are empty now' not in windows
    assert sorted(windows & LINUX_ONLY) == []
    assert 'Stop and remove the service' in windows


def test_status_runs_each_platforms_own_tree(dry_other_entries):
    run = dry_other_entries
    linux, windows = run.names('rhel-9.4'), run.names('win2022-status')
    assert sorted(names_in('linux', ['status.yml']) - linux) == []
    assert sorted(linux & WINDOWS_ONLY) == []
    assert sorted(names_in('windows', ['status.yml']) - windows) == []
    assert sorted(windows & LINUX_ONLY) == []


# --- The playbooks, unchanged -------------------------------------------------------------

PHASE_INCLUDES = {
    'preflight': 'Run the preflight checks',
    'install': 'Install the client',
    'configure': 'Configure the client and the host',
    'service': 'Run the service and wait until it is healthy',
}


def listed(ansible, playbook, *args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ansible.work, 'collections'), ANSIBLE_NOCOLOR='1')
    proc = subprocess.run([PLAYBOOK, '-i', 'localhost,', playbook, '--list-tasks'] + list(args), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line.strip().split(' : ', 1)[-1].split('\tTAGS:')[0] for line in proc.stdout.splitlines() if '\tTAGS:' in line]


@pytest.mark.parametrize('phase', (None,) + PHASES)
def test_deploy_lists_the_phases_a_tag_selects(ansible, phase):
    tasks = listed(ansible, 'virinco.pywats.deploy', *(['--tags', 'pywats_client_' + phase] if phase else []))
    shown = set(name for other, name in PHASE_INCLUDES.items() if name in tasks)
    wanted = set(PHASE_INCLUDES.values()) if phase is None else {PHASE_INCLUDES['preflight'], PHASE_INCLUDES[phase]}
    assert shown == wanted
    # The option checks run with every tag, before anything else.
    assert 'Check the server URL' in tasks
    assert tasks.index('Check the server URL') < tasks.index(PHASE_INCLUDES['preflight'])


def test_deploy_with_a_phase_tag_reaches_the_station(ansible):
    # The README's example; which tasks each tag selects inside the role is test_phase_tag_selects_its_phase's.
    run = ansible(facts_then('virinco.pywats.deploy'), ['debian-12'], args=['--tags', 'pywats_client_install'])
    assert NO_LOG_WARNING not in run.output
    assert run.first_unreachable('debian-12') == 'Check that this station can run the client', run.stderr[-3000:]


@pytest.mark.parametrize('playbook, first', [
    ('virinco.pywats.status', 'Read the client release in the venv'),
    ('virinco.pywats.preflight', 'Check that this station can run the client'),
])
def test_read_only_playbooks_run_whole_whatever_the_tags(ansible, playbook, first):
    run = ansible(facts_then(playbook), ['debian-12'], args=['--tags', 'pywats_client_install'])
    assert run.first_unreachable('debian-12') == first, run.stderr[-3000:]


@pytest.mark.parametrize('playbook, args', [
    ('virinco.pywats.upgrade', ['--tags', 'pywats_client_install']),
    ('virinco.pywats.uninstall', ['--skip-tags', 'pywats_client_service', '-e', 'pywats_uninstall_hosts=pywats_stations']),
])
def test_changing_playbooks_refuse_tags_before_any_change(ansible, playbook, args):
    run = ansible(facts_then(playbook), ['debian-12'], args=args)
    assert run.rc != 0
    name = playbook.split('.')[-1]
    refusal = [task for task, _result in run.hosts['debian-12'] if task.startswith('Refuse --tags and --skip-tags')]
    assert len(refusal) == 1
    result = run.result('debian-12', refusal[0])
    assert result['failed']
    assert result['msg'].startswith('virinco.pywats.%s runs as a whole (' % name)
    tags = 'pywats_client_install' if '--tags' in args else 'all'
    skip = 'pywats_client_service' if '--skip-tags' in args else 'none'
    assert result['msg'].endswith('Got --tags %s and --skip-tags %s: run it without them.' % (tags, skip))
    # Refused on the controller: no task tried to reach the station.
    assert run.first_unreachable('debian-12') is None


@pytest.mark.parametrize('playbook, args', [
    ('virinco.pywats.upgrade', []),
    ('virinco.pywats.uninstall', ['-e', 'pywats_uninstall_hosts=pywats_stations']),
])
def test_changing_playbooks_run_without_tags(ansible, playbook, args):
    # ansible_run_tags is a tuple in ansible-core 2.19: a check that compares it with a list
    # refused every run, tags or not.
    run = ansible(facts_then(playbook), ['debian-12'], args=args)
    refusal = [task for task, _result in run.hosts['debian-12'] if task.startswith('Refuse --tags and --skip-tags')]
    assert len(refusal) == 1
    assert not run.result('debian-12', refusal[0]).get('failed'), run.result('debian-12', refusal[0])
    # Past the check, the playbook goes on to the station.
    assert run.first_unreachable('debian-12') is not None, run.stderr[-3000:]


# --- Check mode of the service phase --------------------------------------------------------

SERVICE_CASES = {
    # host: (unit file state/active state, unit template changed)
    'fresh-station': ('not-found', True),
    'healthy-unit-changed': ('enabled/active', True),
    'healthy-unit-same': ('enabled/active', False),
    'stopped-disabled-unit-changed': ('disabled/inactive', True),
}


@pytest.fixture(scope='module')
def service_check(tmp_path_factory):
    work = str(tmp_path_factory.mktemp('service-check'))
    collections = collection_tree(work)
    hosts = {}
    for host, (state, changed) in SERVICE_CASES.items():
        hosts[host] = {
            'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable,
            'dispatch_bin': os.path.join(HERE, 'bin'), 'dispatch_unit_state': state,
            'dispatch_systemctl_log': os.path.join(work, host + '.log'),
            # What the configure phase registered for the unit template.
            '__pywats_client_unit': {'changed': changed},
        }
    inventory = os.path.join(work, 'inventory.json')
    with open(inventory, 'w') as handle:
        json.dump({'all': {'hosts': hosts}}, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.posix.json',
               ANSIBLE_LOCAL_TEMP=os.path.join(work, 'tmp'), ANSIBLE_LOCALHOST_WARNING='0')
    env.pop('ANSIBLE_CALLBACKS_ENABLED', None)
    proc = subprocess.run([PLAYBOOK, '-i', inventory, '--check', os.path.join(HERE, 'service_check_mode.yml')],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    calls = {}
    for host in SERVICE_CASES:
        with open(os.path.join(work, host + '.log')) as handle:
            calls[host] = handle.read().splitlines()
    return Run(proc), calls


REPORT = 'Report the service a real run enables and starts'
START = 'Enable and start the service'


def test_check_mode_reports_a_start_only_for_a_unit_systemd_does_not_know(service_check):
    run, _calls = service_check
    report = run.result('fresh-station', REPORT)
    assert report['changed'] and report['msg'] == 'Would enable and start pywats-client'
    assert run.result('fresh-station', START).get('skipped')
    for host in ('healthy-unit-changed', 'healthy-unit-same', 'stopped-disabled-unit-changed'):
        assert run.result(host, REPORT).get('skipped'), host


def test_check_mode_asks_systemd_about_a_known_unit(service_check):
    run, _calls = service_check
    # Already enabled and active, but its unit file changes: the module is asked, and says nothing to do.
    start = run.result('healthy-unit-changed', START)
    assert not start.get('skipped') and not start['changed'], start
    start = run.result('stopped-disabled-unit-changed', START)
    assert start['changed'] and start['enabled'] and start['state'] == 'started'


def test_check_mode_only_reads_from_systemd(service_check):
    _run, calls = service_check
    verbs = set(call.split()[0] for host_calls in calls.values() for call in host_calls)
    assert verbs and verbs <= {'show', 'is-enabled', 'list-unit-files', 'is-active'}


def test_service_module_runs_only_where_the_unit_or_the_service_differs(service_check):
    run, _calls = service_check
    # The state read found it enabled and active, and its unit is unchanged: no module run.
    assert run.result('healthy-unit-same', START).get('skipped')
    assert not run.result('stopped-disabled-unit-changed', START).get('skipped')


# --- Windows stations in the fleet playbooks ------------------------------------------------

def test_upgrade_skips_a_windows_station_with_a_message(ansible):
    # upgrade's rollback is Linux's; a Windows station that failed in it aborted the whole fleet's upgrade
    # (max_fail_percentage 0) on pywats_client_status.hotfixes, which its status never set.
    # Batches of one, the Windows station first: the Linux station's batch must still run.
    run = ansible(facts_then('virinco.pywats.upgrade'), ['win2022', 'debian-12'], args=['-e', 'pywats_upgrade_serial=1'])
    said = run.result('win2022', 'Say why this Windows station is skipped and what upgrades it')
    assert said['msg'].startswith('win2022 is a Windows station: virinco.pywats.upgrade upgrades Linux stations only')
    assert 'virinco.pywats.deploy -e pywats_deploy_hosts=win2022 -e pywats_client_version=<release>' in said['msg']
    # Skipped before any task that talks to it, and not counted as failed.
    assert run.first_unreachable('win2022') is None
    assert not [name for name, result in run.hosts['win2022'] if result.get('failed')]
    # The Linux station goes on to its upgrade.
    assert run.first_unreachable('debian-12') == 'Read the client release in the venv', run.stderr[-3000:]


def windows_status_keys():
    with open(os.path.join(TASKS, 'windows', 'status.yml')) as handle:
        tasks = yaml.safe_load(handle)
    record = next(t for t in tasks if t.get('name') == "Record the station's status")
    return list(record['ansible.builtin.set_fact']['pywats_client_status'])


def status_columns():
    with open(os.path.join(REPO, 'playbooks', 'status.yml')) as handle:
        plays = yaml.safe_load(handle)
    return plays[1]['vars']['__columns']


def test_windows_status_has_every_column_of_the_fleet_table():
    assert sorted(set(status_columns()) - set(windows_status_keys())) == []


def test_status_shows_a_station_whose_record_lacks_columns(ansible, tmp_path):
    # A record without some of the table's columns (as the Windows status was, without hotfixes) is a
    # row with empty cells: the table dropped it and the CSV export failed.
    record = dict((key, 'w-' + key) for key in windows_status_keys() if key not in ('hotfixes', 'restarts'))
    record['host'] = 'win2022'
    csv, json_out = str(tmp_path / 'fleet.csv'), str(tmp_path / 'fleet.json')
    # The fleet table's play runs only when some station answered the first play: rhel-9.4 reads its
    # status from this controller (read-only, nothing of the client there; health on the discard port).
    local = {'ansible_connection': 'local', 'pywats_client_health_port': 9,
             'pywats_client_venv_dir': str(tmp_path / 'no-venv'), 'pywats_client_watch_folders': []}
    run = ansible(facts_then('virinco.pywats.status'), ['rhel-9.4', 'win2022', 'debian-12'],
                  args=['-e', 'pywats_status_csv=' + csv, '-e', 'pywats_status_json=' + json_out],
                  host_vars={'win2022': {'pywats_client_status': record}, 'rhel-9.4': local})
    columns = status_columns()
    shown = [result for name, result in run.hosts.get('localhost', []) if name.startswith('Show the fleet')]
    assert len(shown) == 1 and not shown[0].get('failed'), (shown, run.stderr[-3000:])
    expected = ' | '.join(record.get(column, '') for column in columns)
    assert shown[0]['msg'][0].startswith('rhel-9.4 | ')
    assert shown[0]['msg'][1:] == [expected, 'debian-12 | unreachable']
    with open(csv) as handle:
        lines = handle.read().splitlines()
    assert lines[0] == ','.join(columns) and len(lines) == 3
    assert lines[2] == ','.join('"%s"' % record.get(column, '') for column in columns)
    with open(json_out) as handle:
        assert json.load(handle)['stations'][1] == record


def test_windows_uninstall_asks_for_defender_before_taking_out_its_exclusions(ansible):
    # configure adds the exclusions only where preflight found Defender; uninstall took them out
    # unconditionally and failed on stations without it. A station that cannot say skips them.
    hosts = {'win2022': {'dry_entry': 'uninstall', 'pywats_client_windows_defender_exclusions': True}}
    run = ansible(facts_then(DRY), sorted(hosts), host_vars=hosts)
    assert run.rc == 0, run.stderr[-4000:]
    assert run.result('win2022', "Look for Microsoft Defender's antimalware service").get('unreachable')
    assert run.result('win2022', 'Take out the Defender exclusions').get('skipped')
    assert 'Make the client\'s Defender exclusions absent' not in run.names('win2022')
