"""Command line of the bots.

python -m bot telegram                  poll the Telegram Bot API (development)
python -m bot telegram-webhook URL      make Telegram call URL (…/webhooks/telegram)
python -m bot zalo-token ACCESS REFRESH store a new Zalo OA token pair
"""

from __future__ import annotations

import argparse
import asyncio
import logging


def main(argv: list[str] | None = None) -> None:
    """Parse the command and run it with the app for APP_ENV."""
    parser = argparse.ArgumentParser(prog="python -m bot", description="Telegram and Zalo bots")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("telegram", help="poll the Telegram Bot API")
    webhook = commands.add_parser("telegram-webhook", help="register the Telegram webhook")
    webhook.add_argument("url", help="https://…/webhooks/telegram")
    tokens = commands.add_parser("zalo-token", help="store a new Zalo OA token pair")
    tokens.add_argument("access_token")
    tokens.add_argument("refresh_token")
    tokens.add_argument("--expires-in", type=int, default=0, help="seconds (Zalo: 90000)")
    args = parser.parse_args(argv)

    from bot import telegram_adapter
    from webapp import create_app
    from webapp.services.messaging.channels.zalo import store_zalo_tokens

    app = create_app()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per long poll otherwise
    if args.command == "telegram":
        telegram_adapter.run_polling(app)
    elif args.command == "telegram-webhook":
        asyncio.run(telegram_adapter.set_webhook(app, args.url))
        print(f"Telegram will call {args.url}")
    else:
        with app.app_context():
            store_zalo_tokens(args.access_token, args.refresh_token, args.expires_in)
        print("Zalo tokens stored")


if __name__ == "__main__":
    main()
