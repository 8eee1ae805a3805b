"""neurosim's built-in plugins: activations, losses and initialisers.

This folder is installed as the package ``neurosim_plugins`` and advertised under the
``neurosim`` entry-point group in ``pyproject.toml``, the same way any third-party plugin
package is found. Nothing here is imported by ``neurosim`` directly.
"""
