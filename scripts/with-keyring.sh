#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked
# gnome-keyring, so code that uses the OS keychain (Secret Service) meets
# the real thing on a headless Linux machine. Keyring files live in a
# temporary directory that is removed afterwards; $HOME is left alone.
#
#   scripts/with-keyring.sh cargo test --workspace
#
# On macOS and Windows the OS keychain is always there: the command runs as is.
set -euo pipefail

# Keychain tests skip themselves where no keychain is expected; under this
# script they must run, so a broken session fails them instead.
export TALLYMESH_KEYCHAIN_TESTS=required

if [[ "$(uname -s)" != "Linux" ]]; then
    exec "$@"
fi

for tool in keyctl dbus-run-session gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null; then
        echo "with-keyring: '$tool' is missing; run 'make setup' first" >&2
        exit 1
    fi
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/tallymesh-keyring.XXXXXX")"
# Desktop portals started inside the session may leave a FUSE mount in the
# runtime directory; unmount it before removing the scratch directory, and
# never let cleaning up change the command's exit status.
cleanup() {
    local status=$?
    if [[ -d "$scratch/runtime/doc" ]]; then
        fusermount -u -z "$scratch/runtime/doc" 2>/dev/null || umount -l "$scratch/runtime/doc" 2>/dev/null || true
    fi
    rm -rf "$scratch" 2>/dev/null || echo "with-keyring: left $scratch behind" >&2
    exit "$status"
}
trap cleanup EXIT
mkdir -p "$scratch"/{data,cache,runtime} "$scratch/data/dbus-1/services"
chmod 700 "$scratch/runtime"
export XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache" XDG_RUNTIME_DIR="$scratch/runtime"

# The keyring daemon is started by D-Bus itself, the first time something
# asks for the Secret Service, from service files in the session's own
# XDG_DATA_HOME (searched before the system's): unlocked with a throwaway
# password. Started by hand instead, a call in the instant before it owned
# its name made D-Bus start a second one beside it; and a daemon that ended
# was started again by the system's service file, locked, so every later
# keychain write failed with "a locked collection". Now a daemon that ends
# comes back unlocked, with the same keyring.
cat > "$scratch/keyring-daemon" <<'DAEMON'
#!/bin/sh
echo -n tallymesh-test | exec gnome-keyring-daemon --unlock --foreground --components=secrets
DAEMON
chmod +x "$scratch/keyring-daemon"
for name in org.freedesktop.secrets org.gnome.keyring; do
    printf '[D-BUS Service]\nName=%s\nExec=%s\n' "$name" "$scratch/keyring-daemon" \
        > "$scratch/data/dbus-1/services/$name.service"
done

# keyctl gives the session its own kernel keyring; dbus-run-session its own
# bus, which starts the daemon above when it is first asked for.
keyctl session - dbus-run-session -- "$@"
