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
mkdir -p "$scratch"/{data,cache,runtime}
chmod 700 "$scratch/runtime"
export XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache" XDG_RUNTIME_DIR="$scratch/runtime"

# keyctl gives the session its own kernel keyring; dbus-run-session its own
# bus; the daemon, unlocked with a throwaway password, serves Secret Service.
keyctl session - dbus-run-session -- bash -c '
    echo -n tallymesh-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$@"
' with-keyring "$@"
