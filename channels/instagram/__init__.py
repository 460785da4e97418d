"""Instagram direct messages for the careers assistant (Instagram Messaging API).

Enable it in credentials.yml as ``channels.instagram.InstagramInput:``; its webhook is
``/webhooks/instagram/webhook``. Settings: channels/instagram/settings.py.
"""

from channels.instagram.channel import InstagramInput
from channels.instagram.output import InstagramOutput

__all__ = ["InstagramInput", "InstagramOutput"]
