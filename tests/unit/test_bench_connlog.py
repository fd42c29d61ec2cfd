# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The benchmark's count of module runs and round trips per station, from a play's connection log.

benchmarks/bench.py runs every ansible-playbook with ANSIBLE_LOG_PATH and ANSIBLE_LOG_VERBOSITY=3;
the lines below were written that way by ansible-core 2.19 with the community.docker.docker
connection (and the local connection for a task delegated to the controller).

Run: python -m pytest tests/unit/test_bench_connlog.py -q
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_bench():
    spec = importlib.util.spec_from_file_location('pywats_bench', str(ROOT / 'benchmarks' / 'bench.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()

PRE = '2026-12-07 10:10:12,323 p=20267 u=root n=ansible INFO| '
DOCKER = "['/usr/local/bin/docker', b'exec', b'-i', '%s', '/bin/sh', '-c', %s]"
TMP = '/root/.ansible/tmp/ansible-tmp-1796638264.5027554-21286-39427221738915'


def docker_exec(host, shell_arg):
    return '%s<%s> EXEC %s' % (PRE, host, DOCKER % (host, shell_arg))


PIPELINED = "\"/bin/sh -c '/usr/bin/python3 && sleep 0'\""
HOME = "\"/bin/sh -c 'echo ~ && sleep 0'\""
MKDIR = ("'/bin/sh -c \\'( umask 77 && mkdir -p \"` echo /root/.ansible/tmp `\"&& mkdir \"` echo %s `\" && echo "
         "ansible-tmp-1796638264.5027554-21286-39427221738915=\"` echo %s `\" ) && sleep 0\\''" % (TMP, TMP))
CHMOD = "\"/bin/sh -c 'chmod u+rwx %s/ %s/venv_state.py && sleep 0'\"" % (TMP, TMP)
RM = "\"/bin/sh -c 'rm -f -r %s/ > /dev/null 2>&1 && sleep 0'\"" % TMP
# ansible.builtin.script with executable: the venv's python, an argument quoted by Ansible.
SCRIPT_VENV_PYTHON = ("'/bin/sh -c \\' /opt/pywats/venv/bin/python %s/venv_state.py a \\'\"\\'\"\\'b c\\'\"\\'\"\\' "
                      "&& sleep 0\\''" % TMP)
SCRIPT_BASH = "\"/bin/sh -c ' /bin/bash %s/check.sh && sleep 0'\"" % TMP
SCRIPT_DIRECT = "\"/bin/sh -c ' %s/true && sleep 0'\"" % TMP
NOT_PIPELINED = "\"/bin/sh -c '/usr/bin/python3 %s/AnsiballZ_stat.py && sleep 0'\"" % TMP
# become with su (it turns pipelining off), as logged verbatim.
BECOME_SU = (r"""'/bin/sh -c \'su  root -c \'"\'"\'/bin/sh -c \'"\'"\'"\'"\'"\'"\'"\'"\'"""
             r"""echo BECOME-SUCCESS-ahyqrbqdnrchwnpbzobodjacvcyqcsyu ; /usr/bin/python3 {tmp}/AnsiballZ_ping.py"""
             r"""\'"\'"\'"\'"\'"\'"\'"\'"\'\'"\'"\' && sleep 0\''""").format(tmp=TMP)


def arg_of(shell_arg):
    """The rest of an EXEC line, as classify_exec gets it."""
    return DOCKER % ('st1', shell_arg)


@pytest.mark.parametrize('shell_arg, kind', [
    (PIPELINED, 'module'),
    (NOT_PIPELINED, 'module_file'),
    (SCRIPT_VENV_PYTHON, 'module_file'),
    (SCRIPT_BASH, 'script_interpreter'),
    (BECOME_SU, 'module_file'),
    (SCRIPT_DIRECT, 'script'),
    (HOME, 'home'),
    (MKDIR, 'tmpdir'),
    (CHMOD, 'chmod'),
    (RM, 'rm'),
])
def test_classify_docker_exec(shell_arg, kind):
    assert bench.classify_exec(arg_of(shell_arg)) == kind


def test_classify_local_connection_and_become_sudo():
    assert bench.classify_exec("/bin/sh -c 'echo ~root && sleep 0'") == 'home'
    assert bench.classify_exec("/bin/sh -c '/work/main/.venv/bin/python3 %s/AnsiballZ_command.py && sleep 0'"
                               % TMP) == 'module_file'
    sudo = ("/bin/sh -c 'sudo -H -S -n  -u root /bin/sh -c '\"'\"'echo BECOME-SUCCESS-abcdef ; "
            "/usr/bin/python3'\"'\"' && sleep 0'")
    assert bench.classify_exec(sudo) == 'module'
    assert bench.classify_exec("/bin/sh -c '/usr/bin/env python3 && sleep 0'") == 'module'
    # A task with `environment:` (the role's pip and venv tasks), as logged verbatim.
    assert bench.classify_exec(arg_of("\"/bin/sh -c 'LC_ALL=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1 /usr/bin/python3 "
                                      "&& sleep 0'\"")) == 'module'
    assert bench.classify_exec("/bin/sh -c 'systemctl --version && sleep 0'") == 'other'


def play_log():
    """A -vvv log of two stations and a task delegated to the controller, tasks in lockstep."""
    lines = [
        PRE + 'ansible-playbook [core 2.19.14]',
        '  config file = None',  # a continuation line of the record above: no prefix
        PRE + 'PLAY [Deploy the pyWATS client] ***********************************************',
        PRE + 'TASK [virinco.pywats.pywats_client : Check the server [preflight]] ***********',
        PRE + '<localhost> EXEC /bin/sh -c \'echo ~root && sleep 0\'',
        PRE + '<localhost> EXEC /bin/sh -c \'/usr/bin/python3 && sleep 0\'',
        PRE + 'TASK [virinco.pywats.pywats_client : Read what the client\'s venv holds] ******',
    ]
    for host in ('st1', 'st2'):
        lines += [docker_exec(host, HOME), docker_exec(host, MKDIR),
                  PRE + '<%s> PUT /work/main/roles/pywats_client/files/linux/venv_state.py TO %s/venv_state.py'
                  % (host, TMP),
                  docker_exec(host, CHMOD), docker_exec(host, SCRIPT_VENV_PYTHON), docker_exec(host, RM)]
    lines += [PRE + 'TASK [virinco.pywats.pywats_client : Template the config] ********************']
    for host in ('st2', 'st1'):
        lines += [docker_exec(host, PIPELINED), docker_exec(host, PIPELINED)]
    lines += [PRE + 'TASK [virinco.pywats.pywats_client : Fetch the status] ***********************',
              docker_exec('st1', PIPELINED),
              PRE + '<st1> FETCH /var/lib/pywats/status.json TO /tmp/out/st1/status.json',
              PRE + 'RUNNING HANDLER [virinco.pywats.pywats_client : Restart pywats-client] *******',
              docker_exec('st2', PIPELINED),
              PRE + 'PLAY RECAP *********************************************************************']
    return '\n'.join(lines) + '\n'


def test_parse_counts_per_station():
    out = bench.parse_connection_log(play_log())
    st1, st2 = out['st1'], out['st2']
    # st1: 6 lines of the script (5 EXEC + 1 PUT), 2 pipelined runs, 1 pipelined run + 1 FETCH.
    assert (st1['exec'], st1['put'], st1['fetch']) == (8, 1, 1)
    assert st1['round_trips'] == 10
    assert st1['module_runs'] == 4
    assert st1['kinds'] == {'home': 1, 'tmpdir': 1, 'chmod': 1, 'module_file': 1, 'rm': 1, 'module': 3}
    assert (st2['exec'], st2['put'], st2['fetch'], st2['module_runs']) == (8, 1, 0, 4)
    assert out['localhost']['module_runs'] == 1


def test_module_runs_by_task_and_handler():
    out = bench.parse_connection_log(play_log())
    assert out['st1']['module_runs_by_task'] == {
        "virinco.pywats.pywats_client : Read what the client's venv holds": 1,
        'virinco.pywats.pywats_client : Template the config': 2,
        'virinco.pywats.pywats_client : Fetch the status': 1,
    }
    assert out['st2']['module_runs_by_task']['handler: virinco.pywats.pywats_client : Restart pywats-client'] == 1
    # A task name with brackets in it keeps them.
    assert out['localhost']['module_runs_by_task'] == {
        'virinco.pywats.pywats_client : Check the server [preflight]': 1}


def test_hosts_filter_leaves_out_the_controller():
    out = bench.parse_connection_log(play_log(), hosts={'st1', 'st2'})
    assert sorted(out) == ['st1', 'st2']


def test_older_log_prefix_and_no_verbose_lines():
    old = '2024-05-01 10:00:00,001 p=1 u=root n=ansible | '
    text = old + 'TASK [ping] ***\n' + old + '<st1> EXEC ' + arg_of(PIPELINED) + '\n'
    assert bench.parse_connection_log(text)['st1']['module_runs'] == 1
    # Without ANSIBLE_LOG_VERBOSITY (or before ansible-core 2.17) the log has no connection lines.
    assert bench.parse_connection_log(PRE + 'TASK [ping] ***\n' + PRE + 'ok: [st1]\n') == {}


def test_summarize_connection_names_stations_without_lines():
    summary = bench.summarize_connection(play_log(), ['st1', 'st2', 'st3'], str(ROOT / 'x.conn.log'))
    assert summary['per_station']['module_runs'] == {'mean': 4, 'min': 4, 'max': 4}
    assert summary['per_station']['round_trips'] == {'mean': 9.5, 'min': 9, 'max': 10}
    assert summary['stations_without_lines'] == ['st3']
    assert 'localhost' not in summary['by_station']


class _Args:
    def __init__(self, limit):
        self.max_noop_module_runs = limit


def test_max_noop_module_runs_names_count_and_tasks():
    conn = bench.summarize_connection(play_log(), ['st1', 'st2'], str(ROOT / 'r.conn.log'))
    fake = type('FakeBench', (), {'args': _Args(3)})()
    with pytest.raises(bench.BenchError) as err:
        bench.Bench.check_noop_module_runs(fake, 'index-2', conn)
    msg = str(err.value)
    assert 'made 4 module runs' in msg and '--max-noop-module-runs 3' in msg and '2 of 2 stations' in msg
    assert 'Template the config: 2' in msg and "Read what the client's venv holds: 1" in msg
    # At the limit, or with the check off (0), it passes.
    bench.Bench.check_noop_module_runs(type('FakeBench', (), {'args': _Args(4)})(), 'index-2', conn)
    bench.Bench.check_noop_module_runs(type('FakeBench', (), {'args': _Args(0)})(), 'index-2', conn)


def test_max_noop_module_runs_without_connection_lines_fails():
    conn = bench.summarize_connection('', ['st1'], str(ROOT / 'r.conn.log'))
    with pytest.raises(bench.BenchError, match='no lines for st1'):
        bench.Bench.check_noop_module_runs(type('FakeBench', (), {'args': _Args(8)})(), 'index-1', conn)
