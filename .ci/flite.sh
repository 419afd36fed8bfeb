#!/usr/bin/env bash
# flite speaks the captcha for the audio alternative (tests/browser/test_requester_side.py and
# tests/test_requester_side.py fetch the WAV). Idempotent: installs only when missing.
set -euo pipefail
if ! command -v flite >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq flite >/dev/null
fi
command -v flite  # (flite --version exits 1)
