"""The scripted incident the sandbox rehearses from declare to close."""
