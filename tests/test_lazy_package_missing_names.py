"""A lazy metanet package (zoo, loop, inspect) answers a name it does not have with AttributeError, whatever the
name: ``getattr(pkg, name, default)`` and ``hasattr`` rely on it. A dotted name ('a.b', as tools resolving a
dotted path may try) raised ModuleNotFoundError from the submodule lookup, escaping both."""

import pytest

import metanet.inspect
import metanet.loop
import metanet.zoo


@pytest.mark.parametrize("package", [metanet.zoo, metanet.loop, metanet.inspect], ids=lambda p: p.__name__)
@pytest.mark.parametrize("name", ["no.such", "store.Store", "a b", "1x", "-"])
def test_a_name_that_is_no_identifier_is_an_attribute_error(package, name):
    assert getattr(package, name, None) is None
    assert not hasattr(package, name)
    with pytest.raises(AttributeError, match="has no attribute"):
        getattr(package, name)


def test_submodules_and_public_names_still_resolve():
    assert metanet.zoo.store.Store is metanet.zoo.Store
    assert callable(metanet.loop.refine) and callable(metanet.zoo.build)
