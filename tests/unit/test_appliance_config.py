# -*- coding: utf-8 -*-
# Copyright (c) 2026, the virinco.pywats contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The appliance's first-boot configurator: input checks, the server/token probe, the config write."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import importlib.machinery
import importlib.util
import json
import os
import pwd
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      'playbooks', 'files', 'appliance', 'pywats_appliance_config.py')
TOKEN = 'station-token-123'


def _load():
    loader = importlib.machinery.SourceFileLoader('pywats_appliance_config', SCRIPT)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


cfg = _load()


class _Wats(BaseHTTPRequestHandler):
    """GET /api/App/Version answering 401 unless the token is sent as WATS expects."""

    seen = []

    def do_GET(self):  # noqa: N802 - name of the base class hook
        self.seen.append((self.path, self.headers.get('Authorization')))
        if self.path != '/api/App/Version':
            self.send_response(404)
            self.end_headers()
            return
        ok = self.headers.get('Authorization') == 'Basic ' + TOKEN
        body = json.dumps('24.1.0' if ok else 'denied').encode()
        self.send_response(200 if ok else 401)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def wats():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Wats)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield 'http://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize('url', ['', 'wats.example.com', 'ftp://wats.example.com', 'https://', 'https://wats example.com'])
def test_bad_url_is_refused_by_name(url):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.check_url(url)
    assert 'server URL must be an http:// or https:// URL' in str(exc.value)


@pytest.mark.parametrize('url, message', [
    ('https://ops:Seed-Pass@wats.example.com', "server URL must not carry credentials (user:password@host): the station"
     " authenticates with its token only; got 'https://***@wats.example.com'"),
    ('ftp://ops:Seed-Pass@wats.example.com', "server URL must be an http:// or https:// URL such as"
     " https://wats.example.com; got 'ftp://***@wats.example.com'"),
])
def test_url_with_credentials_is_refused_without_echoing_them(url, message):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.check_url(url)
    assert str(exc.value) == message


@pytest.mark.parametrize('token', ['', 'has space', 'new\nline', 'tab\t'])
def test_bad_token_is_refused_without_echoing_it(token):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.check_token(token)
    assert 'token must be' in str(exc.value)
    if token.strip():
        assert token not in str(exc.value)


@pytest.mark.parametrize('net, message', [
    ({'mode': 'bridge'}, 'network mode must be dhcp or static'),
    ({'mode': 'static', 'address': '192.0.2.10'}, 'needs a prefix length'),
    ({'mode': 'static', 'address': 'ten/24'}, 'ADDRESS/PREFIX'),
    ({'mode': 'static', 'address': '192.0.2.10/24', 'gateway': 'router'}, 'must be IP addresses'),
    ({'mode': 'static', 'address': '192.0.2.10/24', 'dns': 'a,b'}, 'must be IP addresses'),
])
def test_bad_network_is_refused(net, message):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.check_network(net)
    assert message in str(exc.value)


def test_static_network_is_normalised():
    net = cfg.check_network({'mode': 'static', 'address': '192.0.2.10/24', 'gateway': '192.0.2.1', 'dns': '192.0.2.53, 192.0.2.54'})
    assert net == {'mode': 'static', 'address': '192.0.2.10/24', 'gateway': '192.0.2.1', 'dns': ['192.0.2.53', '192.0.2.54']}


def test_probe_sends_the_token_as_wats_expects(wats):
    _Wats.seen.clear()
    assert cfg.probe_server(wats, TOKEN) == '24.1.0'
    assert _Wats.seen == [('/api/App/Version', 'Basic ' + TOKEN)]


def test_probe_refuses_a_rejected_token(wats):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.probe_server(wats, 'wrong-token')
    assert 'rejected the token (HTTP 401)' in str(exc.value)
    assert 'wrong-token' not in str(exc.value)


def test_probe_reports_an_unreachable_server():
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.probe_server('http://127.0.0.1:9', TOKEN, timeout=3)
    assert 'is not reachable' in str(exc.value)


def test_config_write_keeps_other_keys_and_is_private(tmp_path):
    path = tmp_path / 'config_default.json'
    path.write_text(json.dumps({'service_address': '', 'api_token': '', 'converters': [{'name': 'json'}]}))
    os.chmod(str(path), 0o644)
    conf = dict(cfg.DEFAULTS, config_file=str(path), user=pwd.getpwuid(os.getuid()).pw_name)
    cfg.write_client_config(conf, 'https://wats.example.com', TOKEN, 'Line 4')
    data = json.loads(path.read_text())
    assert data == {'service_address': 'https://wats.example.com', 'api_token': TOKEN, 'station_name': 'Line 4',
                    'converters': [{'name': 'json'}]}
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ['config_default.json']


def test_rejected_token_changes_nothing(tmp_path, wats):
    path = tmp_path / 'config_default.json'
    path.write_text('{}')
    conf = dict(cfg.DEFAULTS, config_file=str(path), marker=str(tmp_path / 'configured'),
                user=pwd.getpwuid(os.getuid()).pw_name)
    with pytest.raises(cfg.ConfigError):
        cfg.configure(conf, wats, 'wrong-token', 'Line 4')
    assert path.read_text() == '{}'
    assert not (tmp_path / 'configured').exists()


def test_seed_file_is_deleted_even_when_refused(tmp_path):
    seed = tmp_path / 'seed.json'
    seed.write_text(json.dumps({'server_url': 'ftp://x', 'api_token': TOKEN, 'station_name': 'a'}))
    conf = dict(cfg.DEFAULTS, cloud_instance_dir=str(tmp_path / 'none'), cloud_run_sensitive=str(tmp_path / 'none.json'))
    with pytest.raises(cfg.ConfigError):
        cfg.cmd_seed(conf, type('Args', (), {'file': str(seed)}))
    assert not seed.exists()


# The report share -------------------------------------------------------------------
SHARE_PASSWORD = 'Line 4 share pässword'


@pytest.mark.parametrize('password', ['', 'short', 'x' * 128, 'two\nlines-password', 'tab\tin-password', None])
def test_bad_share_password_is_refused_without_echoing_it(password):
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.check_share_password(password)
    assert str(exc.value).startswith('share password must be 8-127 printable characters')
    if password:
        assert password not in str(exc.value)


def test_share_password_may_hold_spaces_and_any_script():
    assert cfg.check_share_password(SHARE_PASSWORD) == SHARE_PASSWORD


class _Runs:
    """Records subprocess.run calls; answers each with the given return code and stderr."""

    def __init__(self, rc=0, stderr=''):
        self.calls = []
        self.rc = rc
        self.stderr = stderr

    def __call__(self, argv, **kwargs):
        self.calls.append((list(argv), kwargs.get('input')))
        return type('Result', (), {'returncode': self.rc if argv[0] == 'smbpasswd' else 0,
                                   'stderr': self.stderr, 'stdout': ''})()


def _share_conf(tmp_path):
    return dict(cfg.DEFAULTS, share_marker=str(tmp_path / 'share-configured'),
                shares=[{'name': 'inbox', 'path': '/srv/pywats/inbox'}])


def test_share_password_goes_to_smbpasswd_on_stdin_and_starts_smbd(tmp_path, monkeypatch):
    runs = _Runs()
    monkeypatch.setattr(cfg.subprocess, 'run', runs)
    conf = _share_conf(tmp_path)
    cfg.set_share_password(conf, SHARE_PASSWORD)
    argvs = [argv for argv, _stdin in runs.calls]
    assert argvs == [['smbpasswd', '-s', '-a', 'pywats-share'], ['smbpasswd', '-e', 'pywats-share'],
                     ['systemctl', 'enable', 'smbd'], ['systemctl', 'restart', 'smbd']]
    assert runs.calls[0][1] == SHARE_PASSWORD + '\n' + SHARE_PASSWORD + '\n'
    assert not any(SHARE_PASSWORD in ' '.join(argv) for argv in argvs)
    assert (tmp_path / 'share-configured').exists()
    assert 'password not set' not in cfg.share_text(conf)


def test_failed_smbpasswd_masks_the_password_and_leaves_the_share_off(tmp_path, monkeypatch):
    runs = _Runs(rc=1, stderr='Failed to add entry for user with password %s.' % SHARE_PASSWORD)
    monkeypatch.setattr(cfg.subprocess, 'run', runs)
    conf = _share_conf(tmp_path)
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.set_share_password(conf, SHARE_PASSWORD)
    assert SHARE_PASSWORD not in str(exc.value)
    assert 'smbpasswd could not set the password of share user pywats-share' in str(exc.value)
    assert not (tmp_path / 'share-configured').exists()
    assert [argv[0] for argv, _stdin in runs.calls] == ['smbpasswd']
    assert cfg.share_text(conf).endswith('(password not set)')


def test_bad_share_password_in_a_seed_changes_nothing(tmp_path, wats):
    _Wats.seen.clear()
    path = tmp_path / 'config_default.json'
    path.write_text('{}')
    conf = dict(_share_conf(tmp_path), config_file=str(path), marker=str(tmp_path / 'configured'),
                user=pwd.getpwuid(os.getuid()).pw_name)
    with pytest.raises(cfg.ConfigError) as exc:
        cfg.configure(conf, wats, TOKEN, 'Line 4', share_password='short')
    assert 'share password must be' in str(exc.value)
    assert _Wats.seen == []
    assert path.read_text() == '{}'
    assert not (tmp_path / 'configured').exists()
    assert not (tmp_path / 'share-configured').exists()


def test_password_from_a_pipe_is_its_first_line():
    import io
    assert cfg.read_new_password(io.StringIO(SHARE_PASSWORD + '\nignored\n')) == SHARE_PASSWORD


# The network file -------------------------------------------------------------------
def test_dhcp_stanza_is_what_ifupdown_reads():
    assert cfg.interfaces_stanza('eth0', {'mode': 'dhcp'}) == [
        '# Written by pywats-appliance-config', 'auto eth0', 'allow-hotplug eth0', 'iface eth0 inet dhcp']


def test_static_stanza_is_what_ifupdown_reads():
    net = cfg.check_network({'mode': 'static', 'address': '192.0.2.10/24', 'gateway': '192.0.2.1', 'dns': '192.0.2.53'})
    assert cfg.interfaces_stanza('eth0', net) == [
        '# Written by pywats-appliance-config', 'auto eth0', 'allow-hotplug eth0', 'iface eth0 inet static',
        '    address 192.0.2.10/24', '    gateway 192.0.2.1']


def test_scrub_removes_every_copy_of_the_seed_cloud_init_keeps(tmp_path):
    instance = tmp_path / 'instances' / 'iid-pywats-1'
    instance.mkdir(parents=True)
    for name in ('user-data.txt', 'user-data.txt.i', 'cloud-config.txt', 'obj.pkl', 'datasource'):
        (instance / name).write_text('api_token: %s' % TOKEN if name != 'datasource' else 'NoCloud')
    sensitive = tmp_path / 'instance-data-sensitive.json'
    sensitive.write_text(TOKEN)
    conf = dict(cfg.DEFAULTS, cloud_instance_dir=str(tmp_path / 'instances'), cloud_run_sensitive=str(sensitive))
    assert cfg.scrub_cloud_init(conf) == 5
    assert sorted(p.name for p in instance.iterdir()) == ['datasource']
    assert not sensitive.exists()


def test_status_shows_ipv4_addresses_without_loopback():
    brief = 'lo               UNKNOWN        127.0.0.1/8 \neth0             UP             10.0.2.15/24 192.0.2.7/24 \n'
    assert cfg.ipv4_addresses(brief) == [('eth0', '10.0.2.15/24'), ('eth0', '192.0.2.7/24')]
    assert cfg.ipv4_addresses('lo UNKNOWN 127.0.0.1/8\n') == []


def test_share_line_names_the_address_test_equipment_maps(tmp_path):
    conf = _share_conf(tmp_path)
    assert cfg.share_text(conf, '10.0.2.15') == '\\\\10.0.2.15\\inbox  user pywats-share  (password not set)'.join(
        ['Share:   ', ''])
