"""Fork kernels: ipykernel kernels forked from a pre-imported template process.

``meow-fork`` is a jupyter_client kernel provisioner (registered as an entry
point of this package). For a kernelspec that runs ipykernel
(``python -m ipykernel_launcher -f {connection_file}``) it starts, once per
Python, a template process that has imported ipykernel and IPython, and forks
each kernel from it: a new process with its own pid, namespace and file
descriptors, started in tens of milliseconds instead of paying for the
interpreter start and the imports (about 0.4 CPU-s per kernel). Any other
kernelspec, or a system without ``fork``, is launched the usual way.

meow's private Jupyter server uses it for every kernelspec
(``--KernelProvisionerFactory.default_provisioner_name=meow-fork``; set
``MEOW_FORK_KERNELS=0`` to turn it off). JupyterLab's own server keeps its
kernelspecs as they are; to opt in there, either start it with

    jupyter lab --KernelProvisionerFactory.default_provisioner_name=meow-fork

or add to one kernelspec's ``kernel.json``

    "metadata": {"kernel_provisioner": {"provisioner_name": "meow-fork"}}

Differences from a kernel started the usual way: the kernel's parent process
is the template (``os.getppid()``), not the Jupyter server; modules the
template imported are already in ``sys.modules`` (imported, not re-run); the
hash seed of ``str``/``bytes`` (``PYTHONHASHSEED``) is the template's, shared
by the kernels of one template (``random`` is reseeded in every child); and
interpreter options read only at start (``PYTHON*`` variables, locale, ``-X``
flags) are those of the template, which is why a template is kept per
Python, interpreter flags and such variables.
"""

from .provisioner import ForkProvisioner

__all__ = ["ForkProvisioner"]
