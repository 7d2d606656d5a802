"""Channel settings through ``flask b24 settings``: typed, and the SMS key never printed."""

from __future__ import annotations

from app.web import create_app


def test_channel_settings_are_set_like_any_other_and_the_sms_key_is_masked(make_services):
    from b24emu.testing import running_emulator

    with running_emulator() as emu:
        services = make_services(emulator_address=emu.domain)
        runner = create_app(services=services).test_cli_runner()
        out = runner.invoke(args=["b24", "connect", "--webhook", emu.webhook_url(), "--no-install"])
        member_id = out.output.split("member_id=")[1].split()[0]
        args = ["b24", "settings", "--portal", member_id, "--playbook", "furniture"]
        changed = runner.invoke(
            args=[*args, "--set", 'message_channels=["sms","email"]', "--set", "sms_provider=smsru",
                  "--set", "sms_api_id=SECRET-KEY-123"]
        )  # fmt: skip
        assert changed.exit_code == 0, changed.output
        assert 'message_channels = ["sms", "email"]' in changed.output
        assert 'sms_api_id = "***"' in changed.output and "SECRET-KEY-123" not in changed.output
        bad = runner.invoke(args=[*args, "--set", "message_templates=oops"])
        assert bad.exit_code != 0 and "not a valid table" in bad.output
