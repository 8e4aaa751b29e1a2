"""The sandbox bank's rules: gateway requests, confirmations, notifications, Huifu, faults, delivery."""
