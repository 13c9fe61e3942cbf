"""data/synthetic"""
