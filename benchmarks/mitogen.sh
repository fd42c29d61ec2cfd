#!/usr/bin/env bash
# Compare the role under Ansible's linear strategy with Mitogen for Ansible's
# mitogen_linear (issue #23 item 6) on the local container fleet and the WATS
# stand-in (127.0.0.1 only): first converge and no-op re-run per fleet size.
#
#   benchmarks/mitogen.sh [--stations 1,5] [--rounds 2] [--ports 19500-19599] [--mitogen 0.3.54]
#
# Mitogen goes into a venv of its own (.cache/mitogen/venv, same ansible-core as
# .venv; PYWATS_MITOGEN_VENV overrides); .venv is not touched. Each round runs
# plain then mitogen (the next round the other way round), each first converge
# on fresh containers. Prints one row per play and writes it to
# benchmarks/results/mitogen-<timestamp>.tsv.
#
# Two things the runs need under Mitogen (see benchmarks/README.md):
# - ansible_connection must be the bare name `docker`: Mitogen only takes over
#   the connection names it knows; with `community.docker.docker` the play runs
#   on Ansible's own connection plugin and nothing changes.
# - python3-apt must be on the station before the role's apt task: without it the
#   apt module installs it and then respawns itself under /usr/bin/python3, which
#   fails under Mitogen. Both modes therefore run a small play first that installs
#   python3-apt when it is missing (the same apt-get work the apt module does).
#
# Columns: wall s; controller CPU-s (ansible-playbook and all its children: forks,
# Mitogen's multiplexer, docker CLI); station CPU-s (the containers' cgroups);
# host CPU-s (all of /proc/stat, so it includes dockerd and anything else the
# machine runs); EXEC/PUT lines of the -vvv connection log (Ansible's connection
# only; Mitogen logs none); docker CLI calls; changed per host; load averages.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
stations=1,5 rounds=1 ports=${PYWATS_MITOGEN_PORTS:-19500-19599} mver=
while [ $# -gt 0 ]; do
  case $1 in
    --stations) stations=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --ports) ports=$2; shift 2 ;;
    --mitogen) mver="==$2"; shift 2 ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x .venv/bin/ansible-playbook ] || { echo "run 'make setup' first (.venv missing)" >&2; exit 2; }
image=${PYWATS_BENCH_IMAGE:-pywats-test/debian:12}
docker image inspect "$image" >/dev/null 2>&1 || { echo "image $image missing: run 'make images'" >&2; exit 2; }

venv=${PYWATS_MITOGEN_VENV:-$root/.cache/mitogen/venv}
core=$(.venv/bin/python -c 'import ansible.release as r; print(r.__version__)')
if ! "$venv/bin/python" -c 'import ansible_mitogen' 2>/dev/null \
   || [ "$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')" != "$core" ]; then
  "$(.venv/bin/python -c 'import sys; print(sys._base_executable)')" -m venv "$venv"
  "$venv/bin/pip" install -q "ansible-core==$core" "mitogen$mver"
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
mitogen_version=$("$venv/bin/python" -c 'import mitogen; print(".".join(map(str, mitogen.__version__)))')
# The role's dependencies come from the project venv's ansible package.
deps=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

tmp=$(mktemp -d /tmp/pywats-mitogen.XXXXXX)
owner=$$ label=pywats-mitogen-pid
lo=${ports%-*}; hi=${ports#*-}
cleanup() {
  local ids
  mapfile -t ids < <(docker ps -aq --filter "label=$label=$owner" || true)
  [ ${#ids[@]} -eq 0 ] || docker rm -f "${ids[@]}" >/dev/null 2>&1 || true
  [ ! -f "$tmp/standin/standin.pid" ] || scripts/standin.sh stop "$lo" "$tmp/standin" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Stand-in with a throw-away token, on the first port of the range.
(umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$tmp/token")
scripts/standin.sh start "$lo" "$tmp/standin" "$tmp/token" >/dev/null

# A collection tree pinned to HEAD, so that edits in the work tree during the run
# do not change what is measured.
commit=$(git rev-parse --short HEAD)
mkdir -p "$tmp/coll/ansible_collections/virinco/pywats"
git archive HEAD | tar -x -C "$tmp/coll/ansible_collections/virinco/pywats"

# A docker shim that counts CLI calls.
mkdir -p "$tmp/shim" "$tmp/logs" "$tmp/inv/group_vars"
cat > "$tmp/shim/docker" <<EOF
#!/bin/sh
echo "\$1" >> "\$DOCKER_SHIM_LOG"
exec $(command -v docker) "\$@"
EOF
chmod +x "$tmp/shim/docker"

cat > "$tmp/inv/group_vars/pywats_stations.yml" <<EOF
ansible_python_interpreter: /usr/bin/python3
ansible_pipelining: true
pywats_deploy_become: false
pywats_client_server_url: "http://127.0.0.1:$lo"
pywats_client_api_token: "{{ lookup('ansible.builtin.file', '$tmp/token') }}"
pywats_client_purpose: Mitogen benchmark
pywats_client_watch_folders:
  - {path: /srv/pywats/inbox/wsjf, converter: wats_json}
  - {path: /srv/pywats/inbox/xml, converter: wats_xml}
pywats_client_systemd_private_users: false
pywats_client_sysctl_apply: false
pywats_client_install_source: index
EOF
cat > "$tmp/first.yml" <<'EOF'
- name: Install python3-apt before the role's apt task (its respawn fails under Mitogen)
  hosts: pywats_stations
  gather_facts: false
  tasks:
    - name: Is python3-apt installed
      ansible.builtin.command: dpkg-query -W -f '${db:Status-Abbrev}' python3-apt
      register: __q
      changed_when: false
      failed_when: false
    - name: Install python3-apt
      ansible.builtin.shell: apt-get update -q && apt-get install -y -q -o APT::Install-Recommends=no python3-apt
      when: __q.stdout is not match('ii')
- name: The role
  ansible.builtin.import_playbook: virinco.pywats.deploy
EOF

start_station() {
  docker rm -f "$1" >/dev/null 2>&1 || true
  docker run -d --name "$1" --hostname "$1" --label "$label=$owner" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined --network host --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
    --stop-signal SIGRTMIN+3 "$image" /lib/systemd/systemd >/dev/null
  docker exec "$1" systemctl is-system-running --wait >/dev/null 2>&1 || true
}
host_cpu() { awk '/^cpu /{printf "%.2f\n", ($2+$3+$4+$7+$8+$9)/100}' /proc/stat; }
station_cpu() {  # CPU-s of the given containers' cgroups (v1 cpuacct or v2)
  local id total=0 f v
  for id in "$@"; do
    v=0
    for f in /sys/fs/cgroup/cpuacct/docker/$id/cpuacct.usage /sys/fs/cgroup/system.slice/docker-$id.scope/cpu.stat \
             /sys/fs/cgroup/docker/$id/cpu.stat; do
      [ -r "$f" ] || continue
      case $f in *cpuacct.usage) v=$(( $(cat "$f") / 1000 )) ;; *) v=$(awk '/^usage_usec/{print $2}' "$f") ;; esac
      break
    done
    total=$((total + v))
  done
  echo "scale=2; $total/1000000" | bc
}

out=benchmarks/results/mitogen-$(date +%Y%m%dT%H%M%S).tsv
mkdir -p benchmarks/results
printf 'commit\tmode\tstations\tplay\twall_s\tcontroller_cpu_s\tstation_cpu_s\thost_cpu_s\texec\tput\tdocker_cli\tchanged\tload_before\tload_after\n' | tee "$out"

play() {  # MODE N PHASE
  local mode=$1 n=$2 phase=$3 tag="$1-$2-$3-$RANDOM" names=() ids=() i h pb
  for i in $(seq 1 "$n"); do names+=("pywats-mitogen-$owner-s$(printf %02d "$i")"); done
  { echo "pywats_stations:"; echo "  hosts:"; i=0
    for h in "${names[@]}"; do i=$((i+1))
      [ $((lo+i)) -le "$hi" ] || { echo "port range $ports too small" >&2; exit 2; }
      printf '    %s:\n      ansible_connection: docker\n      pywats_client_health_port: %d\n' "$h" $((lo+i)); done
  } > "$tmp/inv/hosts.yml"
  if [ "$phase" = first ]; then
    for h in "${names[@]}"; do start_station "$h" & done; wait
    pb=$tmp/first.yml
  else
    pb=virinco.pywats.deploy
  fi
  for h in "${names[@]}"; do ids+=("$(docker inspect -f '{{.Id}}' "$h")"); done
  local la0 h0 s0 rc=0
  la0=$(cut -d' ' -f1-3 /proc/loadavg); h0=$(host_cpu); s0=$(station_cpu "${ids[@]}")
  (
    export PATH="$tmp/shim:$venv/bin:$PATH" DOCKER_SHIM_LOG="$tmp/logs/$tag.docker" \
      ANSIBLE_COLLECTIONS_PATH="$tmp/coll:$deps" ANSIBLE_HOME="$tmp/ansible_home" \
      ANSIBLE_LOG_PATH="$tmp/logs/$tag.log" ANSIBLE_LOG_VERBOSITY=3 ANSIBLE_DEPRECATION_WARNINGS=false
    if [ "$mode" = mitogen ]; then
      export ANSIBLE_STRATEGY_PLUGINS="$site/ansible_mitogen/plugins/strategy" ANSIBLE_STRATEGY=mitogen_linear
    fi
    /usr/bin/time -o "$tmp/logs/$tag.time" -f '%e %U %S' \
      ansible-playbook -i "$tmp/inv" "$pb" -f "$n" > "$tmp/logs/$tag.out" 2>&1
  ) || rc=$?
  local h1 s1 la1 wall u s changed
  h1=$(host_cpu); s1=$(station_cpu "${ids[@]}"); la1=$(cut -d' ' -f1-3 /proc/loadavg)
  read -r wall u s < <(tail -1 "$tmp/logs/$tag.time")
  changed=$(grep -A"$((n+1))" 'PLAY RECAP' "$tmp/logs/$tag.out" | grep -o 'changed=[0-9]*' | cut -d= -f2 | sort -u | paste -sd/ -)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$commit" "$mode" "$n" "$phase" "$wall" \
    "$(echo "$u + $s" | bc)" "$(echo "$s1 - $s0" | bc)" "$(echo "$h1 - $h0" | bc)" \
    "$(grep -c '> EXEC ' "$tmp/logs/$tag.log" || true)" "$(grep -c '> PUT ' "$tmp/logs/$tag.log" || true)" \
    "$(wc -l < "$tmp/logs/$tag.docker" 2>/dev/null || echo 0)" "$changed" "$la0" "$la1" | tee -a "$out"
  if [ "$rc" -ne 0 ]; then
    echo "the $mode play failed (rc $rc); its end:" >&2; tail -25 "$tmp/logs/$tag.out" >&2; exit 1
  fi
  if [ "$phase" = rerun ] && [ "$changed" != 0 ]; then
    echo "the $mode re-run changed something (changed=$changed)" >&2; exit 1
  fi
}

echo "ansible-core $core, mitogen $mitogen_version, commit $commit" >&2
IFS=, read -r -a sizes <<< "$stations"
for n in "${sizes[@]}"; do
  for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then order="plain mitogen"; else order="mitogen plain"; fi
    for mode in $order; do play "$mode" "$n" first; play "$mode" "$n" rerun; done
  done
done
echo "written: $out" >&2
