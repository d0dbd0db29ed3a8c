"""Payment gateways behind the port of `bot.core.payments`: Tripay and Midtrans over their HTTP
APIs, the operator's static QRIS made dynamic without a gateway, and a QR drawn as a PNG."""
