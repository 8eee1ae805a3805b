"""Many seeded random generators at once: one per ensemble member, as ``default_rng`` makes them.

Member ``k`` of an ensemble draws its initial weights from ``numpy.random.default_rng(seed_k)``'s
stream. Making that generator hashes the seed through a :class:`numpy.random.SeedSequence`
into PCG64's starting state, about 7 µs of Python-level work each: 7 ms of the setup of a
1,000-member ensemble. :func:`generators` hashes every integer seed below ``2**32`` at once,
with numpy's uint32 arithmetic over all of them, following SeedSequence's published algorithm
(numpy keeps it fixed, so that a seed gives the same stream in every version), and gives each
PCG64 its hashed state through numpy's own ``ISeedSequence`` interface. Every generator is
then exactly ``default_rng(seed)``'s; the first seed's words are checked against numpy's
SeedSequence before any is used, and any other seed (larger, or a SeedSequence) is left to
numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

__all__ = ["generators"]

# SeedSequence's constants (numpy/random/bit_generator.pyx): its pool is four 32-bit words.
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R, _POOL = 0xCA01F9DD, 0x4973F715, 4
_U32 = 0xFFFFFFFF


def _pcg64_words(entropy: np.ndarray) -> np.ndarray:
    """``SeedSequence(e).generate_state(4, np.uint64)`` for every one-word entropy ``e``.

    Parameters
    ----------
    entropy : ndarray
        ``(n,)`` uint32 seeds.

    Returns
    -------
    ndarray
        ``(n, 4)`` uint64: each seed's PCG64 seeding words. uint32 arrays wrap modulo
        ``2**32`` as the algorithm's C code does; the hash constants evolve the same way for
        every seed, so they are Python integers.
    """
    shift = np.uint32(16)
    hash_const = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal hash_const
        value = value ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_A) & _U32
        value = value * np.uint32(hash_const)
        return value ^ (value >> shift)

    zero = np.zeros_like(entropy)
    pool = [hashmix(entropy)] + [hashmix(zero) for _ in range(_POOL - 1)]   # the entropy, then zeros
    for src in range(_POOL):                                                   # every word into every other
        for dst in range(_POOL):
            if src != dst:
                mixed = np.uint32(_MIX_MULT_L) * pool[dst] - np.uint32(_MIX_MULT_R) * hashmix(pool[src])
                pool[dst] = mixed ^ (mixed >> shift)
    hash_const = _INIT_B
    words = []
    for i in range(8):                                                         # 4 uint64 = 8 uint32 words
        value = pool[i % _POOL] ^ np.uint32(hash_const)
        hash_const = (hash_const * _MULT_B) & _U32
        value = value * np.uint32(hash_const)
        words.append(value ^ (value >> shift))
    return np.stack(words, axis=1).astype("<u4").view("<u8").astype(np.uint64)


class _Hashed(ISpawnableSeedSequence):
    """``SeedSequence(seed)`` whose PCG64 words are already known; anything else it is asked
    (other words, children) comes from a real SeedSequence of the same seed."""

    def __init__(self, seed: int, words: np.ndarray):
        self.entropy = seed
        self._words = words
        self._real: np.random.SeedSequence | None = None

    def _sequence(self) -> np.random.SeedSequence:
        if self._real is None:
            self._real = np.random.SeedSequence(self.entropy)
        return self._real

    # What code that inspects a generator's seed sequence reads (as for SeedSequence(seed)):
    # a plain seed has no spawn key and the default pool; children are counted by the real
    # sequence, once one exists.
    spawn_key: tuple = ()
    pool_size: int = 4

    @property
    def n_children_spawned(self) -> int:
        """Children spawned so far, as ``SeedSequence.n_children_spawned``."""
        return 0 if self._real is None else self._real.n_children_spawned

    @property
    def state(self) -> dict:
        """``SeedSequence(seed).state`` after the same spawns."""
        return self._sequence().state

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        """The words PCG64 asks for (4 uint64); other requests as ``SeedSequence(seed)``.

        Parameters
        ----------
        n_words : int
        dtype : numpy dtype, default uint32

        Returns
        -------
        ndarray
        """
        if n_words == 4 and np.dtype(dtype) == np.uint64:
            return self._words.copy()
        return self._sequence().generate_state(n_words, dtype)

    def spawn(self, n_children: int) -> list:
        """Children, as ``SeedSequence(seed).spawn`` makes them (one sequence, counted once).

        Parameters
        ----------
        n_children : int

        Returns
        -------
        list of numpy.random.SeedSequence
        """
        return self._sequence().spawn(n_children)


def _small_int(seed: Any) -> bool:
    return isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)) and 0 <= seed <= _U32


def generators(seeds: Sequence[Any]) -> list[np.random.Generator]:
    """``[numpy.random.default_rng(s) for s in seeds]``, the same streams, made faster.

    Parameters
    ----------
    seeds : sequence
        Whole numbers >= 0, or :class:`numpy.random.SeedSequence` objects.

    Returns
    -------
    list of numpy.random.Generator
        PCG64 generators; those of seeds below ``2**32`` are seeded from words hashed for
        all of them at once (about 10x faster for large ensembles).
    """
    made: list[np.random.Generator | None] = [None] * len(seeds)
    small = [k for k, seed in enumerate(seeds) if _small_int(seed)]
    if small:
        entropy = np.array([int(seeds[k]) for k in small], np.uint32)
        words = _pcg64_words(entropy)
        if np.array_equal(words[0], np.random.SeedSequence(int(entropy[0])).generate_state(4, np.uint64)):
            for k, w in zip(small, words):
                made[k] = np.random.Generator(np.random.PCG64(_Hashed(int(seeds[k]), w)))
    return [rng if rng is not None else np.random.Generator(np.random.PCG64(seed)) for rng, seed in zip(made, seeds)]
