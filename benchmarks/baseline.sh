#!/bin/sh
# The raw upstream way to run the pyWATS client on one station, for comparison
# with the role: no preflight, no hotfixes, no sandboxing. Runs inside a fresh
# station container (benchmarks/run.sh copies it in and runs it with docker exec).
#
#   baseline.sh SERVER_URL TOKEN_FILE HEALTH_PORT [PIP_LOG]
#
# Steps: the system library PySide6's QtCore needs (the client does not start
# without it, so any working install has it), a venv, pip install of the client
# and PySide6-Essentials (upstream's headless extra imports QtCore but does not
# list it), the config json, a simple systemd unit, start, wait for GET /health.
set -eu
server_url=$1; token_file=$2; port=$3; pip_log=${4:-}
version=${PYWATS_BASELINE_VERSION:-0.6.0rc1}
venv=/opt/pywats-baseline/venv
state=/var/lib/pywats-baseline
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1

if ! dpkg-query -W -f '${db:Status-Abbrev}' libglib2.0-0 2>/dev/null | grep -q '^ii'; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends libglib2.0-0 >/dev/null
fi

python3 -m venv "$venv"
"$venv/bin/pip" install -q --no-input ${pip_log:+--log "$pip_log"} \
  "pywats-api[client-headless]==$version" PySide6-Essentials

# `pywats-client service --instance-id default` reads $HOME/.pywats_client/config_default.json.
mkdir -p "$state/.pywats_client" /srv/pywats-baseline/inbox/Done /srv/pywats-baseline/inbox/Error \
  /srv/pywats-baseline/inbox/Pending
umask 077
"$venv/bin/python" - "$state/.pywats_client/config_default.json" "$server_url" "$token_file" <<'PY'
import json, socket, sys
path, url, token_file = sys.argv[1:4]
with open(token_file, encoding="utf-8") as fh:
    token = fh.read().strip()
inbox = "/srv/pywats-baseline/inbox"
config = {
    "service_address": url,
    "api_token": token,
    "station_name": socket.gethostname(),
    "converters": [{
        "name": "wsjf", "converter_type": "file", "enabled": True,
        "module_path": "pywats_client.converters.standard.wats_standard_json_converter.WATSStandardJsonConverter",
        "watch_folder": inbox, "done_folder": inbox + "/Done", "error_folder": inbox + "/Error",
        "pending_folder": inbox + "/Pending", "file_patterns": ["*.json"], "post_action": "move",
        "arguments": {},
    }],
}
with open(path, "w", encoding="utf-8") as fh:
    json.dump(config, fh, indent=2)
PY
umask 022

cat >/etc/systemd/system/pywats-baseline.service <<UNIT
[Unit]
Description=pyWATS client (baseline)
After=network-online.target

[Service]
ExecStart=$venv/bin/pywats-client service --instance-id default
Environment=HOME=$state
Environment=PYWATS_HEALTH_PORT=$port
Environment=QT_QPA_PLATFORM=offscreen
Restart=always

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now pywats-baseline.service >/dev/null 2>&1

# Same wait as the role: GET /health until 200, at most 120 s.
"$venv/bin/python" - "$port" <<'PY'
import sys, time, urllib.request
url = "http://127.0.0.1:%s/health" % sys.argv[1]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
deadline = time.monotonic() + 120
while True:
    try:
        with opener.open(url, timeout=5) as resp:
            if resp.status == 200:
                break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("baseline: %s did not answer 200 within 120 s" % url)
    time.sleep(0.5)
PY
echo "baseline: healthy on port $port"
