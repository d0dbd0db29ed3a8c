"""Automatic top-ups: the ways to pay, Stars invoices, QR codes, Check, admins' refunds."""
