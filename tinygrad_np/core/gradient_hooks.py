"""``Tensor.register_hook``: a function run on a tensor's gradient during backward, as in PyTorch.

``hook(grad)`` gets dL/d(tensor) as a Tensor once that gradient is complete,
before it is passed on (or, for a leaf, added to ``.grad``); it may return a
replacement of the same shape, or None to keep it. ``register_hook`` returns a
handle whose ``remove()`` takes the hook off again. The backward loop looks at
the registry only while some tensor has a hook.
"""
import weakref

from .tensor import Tensor

# id(tensor) -> (weak reference to it, [hooks]); empty when no tensor has a hook
registry: dict[int, tuple[weakref.ref, list]] = {}


class RemovableHandle:
    def __init__(self, tensor, hook):
        self._tensor, self._hook = weakref.ref(tensor), hook

    def remove(self):
        """Take the hook off its tensor (nothing happens if it is already gone)."""
        tensor = self._tensor()
        entry = registry.get(id(tensor)) if tensor is not None else None
        if entry is not None and self._hook in entry[1]:
            entry[1].remove(self._hook)
            if not entry[1]:
                del registry[id(tensor)]


def register_hook(tensor, hook):
    """Run ``hook(grad)`` on this tensor's gradient during backward; a returned Tensor or array replaces it.
    Returns a handle; ``handle.remove()`` unregisters the hook."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a function, got {type(hook).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: this tensor does not require grad, so no gradient will reach it")
    key = id(tensor)
    if key not in registry:
        registry[key] = (weakref.ref(tensor, lambda _, key=key: registry.pop(key, None)), [])
    registry[key][1].append(hook)
    return RemovableHandle(tensor, hook)


def run_hooks(tensor, grad):
    """``grad`` after every hook registered on ``tensor`` (array in, array out on a plain pass)."""
    entry = registry.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return grad
    as_array = not isinstance(grad, Tensor)
    for hook in list(entry[1]):
        result = hook(Tensor._make(grad, False) if as_array else grad)
        if result is None:
            continue
        value = result._data if isinstance(result, Tensor) else result
        if getattr(value, "shape", None) != tensor.shape:
            raise RuntimeError(f"a hook registered with register_hook returned a gradient of shape "
                               f"{getattr(value, 'shape', type(value).__name__)} for a tensor of shape {tensor.shape}")
        grad = value if as_array else (result if isinstance(result, Tensor) else Tensor._make(value, False))
    return grad


setattr(Tensor, "register_hook", register_hook)  # noqa: B010  (a method attached from outside the class)
