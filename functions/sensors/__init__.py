"""The sensors function: the sensors of a device, their tree paths and value mappings."""
