#!/usr/bin/env bash
# Podman as a Docker Engine API for the container executor's tests (see
# /work/shared/reference/containers-here.md and docs/architecture/executors.md "Container executor").
#
#  - installs podman + runc + catatonit + busybox-static from Debian packages (root, apt) when missing;
#  - writes a containers.conf that works on hosts without systemd and with hybrid cgroups;
#  - starts `podman system service` on a unix socket in the background (once; reused when alive);
#  - builds the local image localhost/openbatch-busybox:latest from busybox-static (no registry pulls);
#  - exports DOCKER_HOST when sourced, and prints it when run.
#
# Idempotent and quick when everything is already in place. Usable both ways:
#   source .ci/services-podman.sh      # exports DOCKER_HOST into the calling shell (.ci/run)
#   bash .ci/services-podman.sh        # sets up, prints `export DOCKER_HOST=...`
# Failures never abort the caller: the docker tests skip with a reason when DOCKER_HOST is unusable.

ob_podman_setup() {
  local dir="${OPENBATCH_PODMAN_DIR:-/tmp/openbatch-podman}"
  local sock="$dir/podman.sock"
  local conf="$dir/containers.conf"
  local image="localhost/openbatch-busybox:latest"
  mkdir -p "$dir" || return 1

  if [ "$(id -u)" != "0" ]; then
    echo "services-podman: not root; skipping podman setup" >&2
    return 1
  fi

  local missing=()
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  [ -x /usr/libexec/podman/catatonit ] || [ -x /usr/bin/catatonit ] || missing+=(catatonit)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "services-podman: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap >/dev/null; } || {
      echo "services-podman: apt-get install failed" >&2
      return 1
    }
  fi

  # crun refuses hybrid cgroups here; no systemd; podman's default ulimits exceed the hard limits.
  cat >"$conf.tmp" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  mv "$conf.tmp" "$conf"
  export CONTAINERS_CONF="$conf"

  local curl_ok=0
  command -v curl >/dev/null 2>&1 && curl_ok=1
  ping_sock() {
    if [ "$curl_ok" = 1 ]; then
      curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1
    else
      node -e "require('http').get({socketPath:process.argv[1],path:'/_ping',timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))" "$sock"
    fi
  }

  if ! ping_sock; then
    rm -f "$sock"
    # setsid + nohup: the service outlives this script and the CI step's process group.
    setsid nohup env CONTAINERS_CONF="$conf" podman system service --time=0 "unix://$sock" \
      >"$dir/service.log" 2>&1 </dev/null &
    echo $! >"$dir/service.pid"
    local i
    for i in $(seq 1 100); do
      ping_sock && break
      sleep 0.1
    done
    if ! ping_sock; then
      echo "services-podman: podman system service did not come up; see $dir/service.log" >&2
      return 1
    fi
  fi

  if ! CONTAINERS_CONF="$conf" podman image exists "$image" 2>/dev/null; then
    local root="$dir/busybox-root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root" "$root/proc" "$root/sys" "$root/dev"
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    local tool
    for tool in sh ash echo sleep printenv cat yes head tail seq true false dd env id ls ps kill printf \
      grep sed wc tr test expr mkdir rm touch date hostname uname wget nc trap timeout stat mount df top; do
      ln -sf busybox "$root/bin/$tool"
    done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
    echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar -C "$root" -cf "$dir/busybox.tar" . || return 1
    CONTAINERS_CONF="$conf" podman import \
      --change 'ENV PATH=/bin' --change 'CMD ["sh"]' \
      "$dir/busybox.tar" "$image" >/dev/null 2>"$dir/import.log" || {
      echo "services-podman: podman import failed" >&2
      return 1
    }
    rm -rf "$root" "$dir/busybox.tar"
  fi

  export DOCKER_HOST="unix://$sock"
  export OPENBATCH_TEST_IMAGE="$image"
  return 0
}

if ob_podman_setup; then
  echo "export DOCKER_HOST=$DOCKER_HOST"
else
  echo "services-podman: podman unavailable; docker executor tests will skip" >&2
fi
# When sourced, never fail the caller (set -e in .ci/run); when executed, report success.
return 0 2>/dev/null || exit 0
