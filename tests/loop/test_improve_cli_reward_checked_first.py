"""``metanet improve`` checks ``--reward`` before it loads the writer, as it checks ``--selection``: a bad reward
was reported only after the (slower) writer load, and a bad --writer path hid it."""

from __future__ import annotations

from metanet.cli import main


def test_a_bad_reward_is_reported_before_the_writer_is_loaded(tmp_path, capsys):
    missing = tmp_path / "no-such-writer.safetensors"
    assert main(["improve", "digits", "--rounds", "0", "--writer", str(missing), "--reward", "accuracy+speed"]) == 2
    assert capsys.readouterr().err.strip() == ("metanet: error: unknown reward term 'speed'; valid terms: accuracy, "
                                               "size, size(WEIGHT)")
