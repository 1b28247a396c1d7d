"""The repository as shipped: the image, migrations, standing on its own."""
