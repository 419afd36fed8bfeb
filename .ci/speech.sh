#!/usr/bin/env bash
# espeak-ng speaks the captcha for the audio alternative, in Spanish (tests/browser/
# test_requester_side.py and tests/test_requester_side.py fetch the WAV). Idempotent:
# installs only when missing.
set -euo pipefail
if ! command -v espeak-ng >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq espeak-ng >/dev/null
fi
command -v espeak-ng
