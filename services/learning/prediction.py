"""Habit success prediction: an online logistic model shared by everyone, adjusted per user.

Two layers, both updated one outcome at a time so the service can learn from every log event:

1. **Population model.** Logistic regression on standardised features (running means and
   variances, seeded with the priors in ``features.FEATURES``), trained with AdaGrad. Its L2 term
   pulls the weights towards research-informed prior weights rather than towards zero, so a young
   model leans the right way and a mature one is driven by data. It is trained on its own
   prediction, without the per-user layer, so it stays the right model for someone we know
   nothing about.
2. **Per-user adjustment.** An offset plus small corrections to the weights of the features that
   vary within one person's habits (minutes, difficulty, time of day…), fitted to what the
   population model gets wrong for that user. Each parameter has a Gaussian prior centred on
   "no adjustment" and is updated by assumed-density filtering (one Newton step per example with
   a diagonal precision, as in online Bayesian logistic regression). The prior's pull therefore
   fades as the user's evidence accumulates: a new user gets the population's answer, a
   long-standing one gets their own. Old evidence decays slowly (``forgetting``), so a user whose
   life changes is not held to last season's record.

A prediction's factors are the real terms of the log-odds: weight × standardised value for each
feature (grouped, e.g. sine and cosine of the hour into ``time_of_day``) and the user's offset.
The baseline plus every factor equals the logit of the probability, so the explanation is the
model rather than a story told beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from services.learning.features import (
    FEATURE_INDEX,
    FEATURE_NAMES,
    FEATURES,
    FeatureVector,
    HabitProfile,
    UserHistory,
    build_features,
)

STATE_VERSION = 1

PERSONAL_FEATURES: tuple[str, ...] = (
    "difficulty",
    "log_minutes",
    "times_per_week",
    "hour_sin",
    "hour_cos",
    "chronotype_fit",
    "weekend",
    "outdoor_cold_season",
)
"""Features whose weight may differ per user. Features that are constant across one user's
habits (social support, their completion rate) would only duplicate the offset."""

_PERSONAL_INDEX = np.array([FEATURE_INDEX[name] for name in PERSONAL_FEATURES], dtype=np.intp)
_PRIOR_MEAN = np.array([f.prior_mean for f in FEATURES], dtype=np.float64)
_PRIOR_STD = np.array([f.prior_std for f in FEATURES], dtype=np.float64)
_PRIOR_WEIGHT = np.array([f.prior_weight for f in FEATURES], dtype=np.float64)
_FACTOR_LABELS: dict[str, str] = {f.factor: f.label for f in FEATURES}
_FACTOR_OF: tuple[str, ...] = tuple(f.factor for f in FEATURES)
PERSONAL_FACTOR = "personal_pattern"
_FACTOR_LABELS[PERSONAL_FACTOR] = "how you personally do compared with people like you"

Array = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Hyper-parameters; code, not state, so they are not persisted.

    Attributes:
        learning_rate: AdaGrad step size of the population model.
        l2: Per-example pull of population weights towards their priors.
        prior_bias: Population log-odds before any data (0.4 ≈ 60 % success).
        scaler_pseudo_count: How many examples' worth of trust the prior means and spreads get.
        offset_prior_sd: Prior spread of a user's offset, in log-odds.
        delta_prior_sd: Prior spread of a user's per-feature weight corrections.
        forgetting: Share of a user's accumulated evidence kept at each new example.
        maturity_examples: Population examples at which confidence in it reaches one half.
        z_clip: Standardised values are clipped to ±this, so one odd input cannot dominate.
        min_effect: Factors smaller than this (log-odds) are not reported.
        top_k: How many success and risk factors to report.
    """

    learning_rate: float = 0.3
    l2: float = 1e-4
    prior_bias: float = 0.4
    scaler_pseudo_count: float = 50.0
    offset_prior_sd: float = 0.5
    delta_prior_sd: float = 0.1
    forgetting: float = 0.99
    maturity_examples: float = 2000.0
    z_clip: float = 5.0
    min_effect: float = 0.05
    top_k: int = 3


@dataclass(frozen=True, slots=True)
class Example:
    """One habit on one day: the inputs of a prediction whose outcome became known.

    Attributes:
        profile: The habit as it was scheduled that day.
        history: The user as of that day (rates and streak before the day's outcome).
        on: The user's local calendar day.
    """

    profile: HabitProfile
    history: UserHistory
    on: date


@dataclass(frozen=True, slots=True)
class Factor:
    """One named term of a prediction's log-odds.

    Attributes:
        name: The factor key (``duration``, ``time_of_day``, ``personal_pattern``…).
        label: How it reads in a sentence.
        contribution: Its signed share of the log-odds: positive helps, negative hurts.
    """

    name: str
    label: str
    contribution: float


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A concrete change that addresses one of the prediction's risk factors.

    Attributes:
        code: A stable key clients may use to render or act (``start_smaller``…).
        factor: The risk factor it answers.
        message: The suggestion in plain words.
    """

    code: str
    factor: str
    message: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """The full decomposition of one prediction's log-odds.

    Attributes:
        baseline: The population model's bias (the log-odds of a typical habit).
        factors: Every factor, in feature order, personal pattern last.
    """

    baseline: float
    factors: tuple[Factor, ...]

    @property
    def logit(self) -> float:
        """The log-odds: baseline plus every factor."""
        return self.baseline + sum(f.contribution for f in self.factors)


@dataclass(frozen=True, slots=True)
class Prediction:
    """The answer to "how likely is this habit to happen?".

    Attributes:
        probability: Chance of completing the habit on the day, 0..1.
        confidence: How much data stands behind the number, 0..1 (see ``SuccessPredictor``).
        top_success_factors: The largest positive factors, largest first.
        top_risk_factors: The largest negative factors, most negative first.
        recommendations: Changes addressing the risk factors, most important first.
    """

    probability: float
    confidence: float
    top_success_factors: tuple[Factor, ...]
    top_risk_factors: tuple[Factor, ...]
    recommendations: tuple[Recommendation, ...]


@dataclass(slots=True)
class _Scaler:
    count: float
    mean: Array
    m2: Array
    floor: Array

    @classmethod
    def from_priors(cls, pseudo_count: float) -> _Scaler:
        return cls(
            count=pseudo_count,
            mean=_PRIOR_MEAN.copy(),
            m2=_PRIOR_STD**2 * pseudo_count,
            floor=_PRIOR_STD * 0.25,
        )

    def standardise(self, x: FeatureVector, clip: float) -> Array:
        std = np.maximum(np.sqrt(self.m2 / self.count), self.floor)
        return np.clip((x - self.mean) / std, -clip, clip)

    def observe(self, x: FeatureVector) -> None:
        # Welford's update keeps the running variance numerically stable over millions of rows.
        self.count += 1.0
        delta = x - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (x - self.mean)


@dataclass(slots=True)
class _Population:
    bias: float
    weights: Array
    bias_g2: float
    weights_g2: Array
    scaler: _Scaler
    examples: int = 0


@dataclass(slots=True)
class _UserLayer:
    # Index 0 is the offset; 1.. follow PERSONAL_FEATURES.
    mean: Array
    precision: Array
    examples: int = 0


@dataclass(slots=True)
class _Scored:
    z: Array
    population_logit: float
    user: _UserLayer | None
    logit: float


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    e = math.exp(value)
    return e / (1.0 + e)


class SuccessPredictor:
    """The online success model: population weights plus per-user adjustments.

    Confidence is ``maturity × (0.4 + 0.6 × evidence)``: ``maturity`` grows with the examples the
    population model has seen (one half at ``maturity_examples``), and ``evidence`` is the share
    of the prior uncertainty about this user's offset that their own outcomes have removed
    (0 for a stranger, towards 1 for someone with months of logs).
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        """Start from the priors: sensible before the first outcome, and learning from there."""
        self.config = config or ModelConfig()
        self._population = _Population(
            bias=self.config.prior_bias,
            weights=_PRIOR_WEIGHT.copy(),
            bias_g2=1.0,
            weights_g2=np.ones(len(FEATURES)),
            scaler=_Scaler.from_priors(self.config.scaler_pseudo_count),
        )
        self._users: dict[str, _UserLayer] = {}
        self._user_prior_precision = np.array(
            [1.0 / self.config.offset_prior_sd**2]
            + [1.0 / self.config.delta_prior_sd**2] * len(PERSONAL_FEATURES)
        )

    @property
    def examples_seen(self) -> int:
        """How many outcomes the population model has learned from."""
        return self._population.examples

    def user_examples(self, user_id: str) -> int:
        """How many outcomes of ``user_id`` the model has learned from."""
        layer = self._users.get(user_id)
        return layer.examples if layer is not None else 0

    def _score(self, x: FeatureVector, user_id: str) -> _Scored:
        pop = self._population
        z = pop.scaler.standardise(x, self.config.z_clip)
        population_logit = pop.bias + float(pop.weights @ z)
        layer = self._users.get(user_id)
        logit = population_logit
        if layer is not None:
            logit += float(layer.mean[0]) + float(layer.mean[1:] @ z[_PERSONAL_INDEX])
        return _Scored(z=z, population_logit=population_logit, user=layer, logit=logit)

    def explain(self, profile: HabitProfile, history: UserHistory, on: date) -> Explanation:
        """Decompose the log-odds of a prediction into its baseline and named factors.

        Args:
            profile: The habit.
            history: The user as of ``on``.
            on: The local day predicted.

        Returns:
            The baseline and every factor; ``explanation.logit`` is the model's log-odds.
        """
        scored = self._score(build_features(profile, history, on), history.user_id)
        weights = self._population.weights.copy()
        offset = 0.0
        if scored.user is not None:
            weights[_PERSONAL_INDEX] += scored.user.mean[1:]
            offset = float(scored.user.mean[0])
        terms = weights * scored.z
        grouped: dict[str, float] = {}
        for factor, term in zip(_FACTOR_OF, terms.tolist(), strict=True):
            grouped[factor] = grouped.get(factor, 0.0) + term
        factors = [Factor(name, _FACTOR_LABELS[name], value) for name, value in grouped.items()]
        factors.append(Factor(PERSONAL_FACTOR, _FACTOR_LABELS[PERSONAL_FACTOR], offset))
        return Explanation(baseline=self._population.bias, factors=tuple(factors))

    def probability(self, profile: HabitProfile, history: UserHistory, on: date) -> float:
        """Return only the success probability (the cheap path for bulk scoring)."""
        return _sigmoid(self._score(build_features(profile, history, on), history.user_id).logit)

    def predict(self, profile: HabitProfile, history: UserHistory, on: date) -> Prediction:
        """Predict whether the habit will be done on ``on``, with reasons and remedies.

        Args:
            profile: The habit.
            history: The user as of ``on``.
            on: The user's local calendar day.

        Returns:
            The probability, its confidence, the factors that help and hurt most, and
            recommendations derived from the factors that hurt most.
        """
        explanation = self.explain(profile, history, on)
        cfg = self.config
        ranked = sorted(explanation.factors, key=lambda f: f.contribution)
        risks = tuple(f for f in ranked if f.contribution <= -cfg.min_effect)
        successes = tuple(f for f in reversed(ranked) if f.contribution >= cfg.min_effect)
        return Prediction(
            probability=_sigmoid(explanation.logit),
            confidence=self.confidence(history.user_id),
            top_success_factors=successes[: cfg.top_k],
            top_risk_factors=risks[: cfg.top_k],
            recommendations=recommend(risks, profile, history)[: cfg.top_k],
        )

    def confidence(self, user_id: str) -> float:
        """Return how much data stands behind predictions for ``user_id``, 0..1."""
        n = float(self._population.examples)
        maturity = n / (n + self.config.maturity_examples)
        layer = self._users.get(user_id)
        evidence = 0.0
        if layer is not None:
            evidence = 1.0 - float(self._user_prior_precision[0] / layer.precision[0])
        return maturity * (0.4 + 0.6 * evidence)

    def update(self, example: Example, outcome: bool) -> None:
        """Learn from one outcome: the habit was done (``True``) or missed (``False``).

        Args:
            example: The inputs as they were before the outcome was known.
            outcome: What happened.
        """
        cfg = self.config
        x = build_features(example.profile, example.history, example.on)
        scored = self._score(x, example.history.user_id)
        y = 1.0 if outcome else 0.0
        pop = self._population

        # Population: AdaGrad on its own (user-free) prediction, L2 towards the prior weights.
        error = _sigmoid(scored.population_logit) - y
        grad_w = error * scored.z + cfg.l2 * (pop.weights - _PRIOR_WEIGHT)
        grad_b = error + cfg.l2 * (pop.bias - cfg.prior_bias)
        pop.weights_g2 += grad_w**2
        pop.bias_g2 += grad_b**2
        pop.weights -= cfg.learning_rate * grad_w / np.sqrt(pop.weights_g2)
        pop.bias -= cfg.learning_rate * grad_b / math.sqrt(pop.bias_g2)

        # User: one assumed-density-filtering step on the residual of the population model.
        layer = scored.user
        if layer is None:
            layer = _UserLayer(
                mean=np.zeros(1 + len(PERSONAL_FEATURES)),
                precision=self._user_prior_precision.copy(),
            )
            self._users[example.history.user_id] = layer
        prior = self._user_prior_precision
        layer.precision = prior + cfg.forgetting * (layer.precision - prior)
        inputs = np.concatenate(([1.0], scored.z[_PERSONAL_INDEX]))
        p = _sigmoid(scored.logit)
        curvature = p * (1.0 - p)
        variance = float(inputs**2 @ (1.0 / layer.precision))
        # Dividing by (1 + curvature × variance) is the rank-one correction that keeps several
        # parameters from each taking the full step on the same residual.
        step = (y - p) / (1.0 + curvature * variance)
        layer.mean += step * inputs / layer.precision
        layer.precision += curvature * inputs**2
        layer.examples += 1

        pop.scaler.observe(x)
        pop.examples += 1

    def to_state(self, include_users: bool = True) -> dict[str, Any]:
        """Return the model as JSON-ready data (weights keyed by feature name).

        Args:
            include_users: Whether to embed every user's layer; a service storing users in their
                own rows passes ``False`` and uses ``user_state`` per user.

        Returns:
            A dict of plain numbers, strings and dicts; ``from_state`` reads it back.
        """
        pop = self._population
        state: dict[str, Any] = {
            "version": STATE_VERSION,
            "population": {
                "examples": pop.examples,
                "bias": pop.bias,
                "bias_g2": pop.bias_g2,
                "weights": _named(FEATURE_NAMES, pop.weights),
                "weights_g2": _named(FEATURE_NAMES, pop.weights_g2),
                "scaler": {
                    "count": pop.scaler.count,
                    "mean": _named(FEATURE_NAMES, pop.scaler.mean),
                    "m2": _named(FEATURE_NAMES, pop.scaler.m2),
                },
            },
        }
        if include_users:
            state["users"] = {uid: self.user_state(uid) for uid in self._users}
        return state

    def user_state(self, user_id: str) -> dict[str, Any] | None:
        """Return one user's layer as JSON-ready data, or ``None`` if the model has none."""
        layer = self._users.get(user_id)
        if layer is None:
            return None
        return {
            "examples": layer.examples,
            "offset": float(layer.mean[0]),
            "offset_precision": float(layer.precision[0]),
            "deltas": _named(PERSONAL_FEATURES, layer.mean[1:]),
            "precisions": _named(PERSONAL_FEATURES, layer.precision[1:]),
        }

    def load_user(self, user_id: str, state: Mapping[str, Any]) -> None:
        """Install one user's layer from ``user_state`` output (e.g. read from the user's row)."""
        prior = self._user_prior_precision
        mean = np.zeros(1 + len(PERSONAL_FEATURES))
        precision = prior.copy()
        mean[0] = float(state["offset"])
        precision[0] = float(state["offset_precision"])
        mean[1:] = _unnamed(PERSONAL_FEATURES, state["deltas"], np.zeros(len(PERSONAL_FEATURES)))
        precision[1:] = _unnamed(PERSONAL_FEATURES, state["precisions"], prior[1:])
        self._users[user_id] = _UserLayer(
            mean=mean, precision=precision, examples=int(state["examples"])
        )

    def drop_user(self, user_id: str) -> None:
        """Forget one user's layer (a service that keeps users in their own rows bounds memory)."""
        self._users.pop(user_id, None)

    @classmethod
    def from_state(
        cls, state: Mapping[str, Any], config: ModelConfig | None = None
    ) -> SuccessPredictor:
        """Rebuild a model from ``to_state`` output.

        Features are matched by name: a feature added since the state was saved starts from its
        prior, and one that was removed is ignored, so a feature change needs no migration.

        Args:
            state: The saved model.
            config: Hyper-parameters (defaults when omitted).

        Returns:
            The model.

        Raises:
            ValueError: If the state has an unknown version.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported prediction model state version {state.get('version')}")
        model = cls(config)
        pop_state = state["population"]
        pop = model._population
        pop.examples = int(pop_state["examples"])
        pop.bias = float(pop_state["bias"])
        pop.bias_g2 = float(pop_state["bias_g2"])
        pop.weights = _unnamed(FEATURE_NAMES, pop_state["weights"], _PRIOR_WEIGHT)
        pop.weights_g2 = _unnamed(FEATURE_NAMES, pop_state["weights_g2"], np.ones(len(FEATURES)))
        scaler = pop_state["scaler"]
        pop.scaler.count = float(scaler["count"])
        pop.scaler.mean = _unnamed(FEATURE_NAMES, scaler["mean"], _PRIOR_MEAN)
        pop.scaler.m2 = _unnamed(FEATURE_NAMES, scaler["m2"], _PRIOR_STD**2 * pop.scaler.count)
        for user_id, user_state in state.get("users", {}).items():
            model.load_user(user_id, user_state)
        return model


def _named(names: tuple[str, ...], values: Array) -> dict[str, float]:
    return {name: float(v) for name, v in zip(names, values.tolist(), strict=True)}


def _unnamed(names: tuple[str, ...], values: Mapping[str, float], default: Array) -> Array:
    out = default.astype(np.float64, copy=True)
    for i, name in enumerate(names):
        if name in values:
            out[i] = float(values[name])
    return out


def recommend(
    risks: tuple[Factor, ...], profile: HabitProfile, history: UserHistory
) -> tuple[Recommendation, ...]:
    """Turn risk factors, most negative first, into concrete changes to the habit.

    A factor yields a recommendation only when the change is possible: a habit that already
    takes two minutes is not told to start with a two-minute version.

    Args:
        risks: Negative factors, most negative first.
        profile: The habit.
        history: The user.

    Returns:
        One recommendation per addressable factor, in the order of the factors, without repeats.
    """
    out: list[Recommendation] = []
    seen: set[str] = set()
    for factor in risks:
        rec = _remedy(factor.name, profile, history)
        if rec is not None and rec.code not in seen:
            seen.add(rec.code)
            out.append(rec)
    return tuple(out)


def _remedy(factor: str, profile: HabitProfile, history: UserHistory) -> Recommendation | None:
    minutes = profile.duration_minutes
    if factor == "duration" and minutes > 2:
        return Recommendation(
            "start_smaller",
            factor,
            f"Start with a 2-minute version instead of {minutes:g} minutes, and grow it once it "
            "happens without thinking.",
        )
    if factor == "difficulty" and profile.difficulty >= 0.4:
        return Recommendation(
            "make_easier",
            factor,
            "Make the first step easier: lay out what you need the night before so starting "
            "takes no effort.",
        )
    if factor == "frequency" and profile.times_per_week > 3:
        fewer = max(2, math.floor(profile.times_per_week) - 2)
        return Recommendation(
            "fewer_sessions",
            factor,
            f"Plan {fewer} sessions a week to begin with and add more once those feel automatic.",
        )
    if factor in ("time_of_day", "energy_fit"):
        if history.chronotype == "morning":
            when = "the morning, when your energy is highest"
        elif history.chronotype == "evening":
            when = "the late afternoon or evening, when your energy is highest"
        else:
            when = "the time of day when you most often get it done"
        return Recommendation("move_time", factor, f"Move it to {when}.")
    if factor in ("track_record", "similar_habits", "new_user") and not profile.has_stack_trigger:
        return Recommendation(
            "stack_it",
            factor,
            "Tie it to something you already do every day, like right after your morning "
            "coffee, so the routine reminds you.",
        )
    if factor == "streak":
        return Recommendation(
            "short_chain",
            factor,
            "Aim for just three days in a row: a short chain is easier to protect than a long one "
            "is to start.",
        )
    if factor == "day_of_week":
        return Recommendation(
            "weekend_version",
            factor,
            "Plan a lighter weekend version, since weekends break the weekday routine.",
        )
    if factor in ("weather", "outdoor", "season") and profile.outdoor:
        return Recommendation(
            "indoor_backup",
            factor,
            "Keep an indoor backup (stairs, a home workout) for cold or rainy days.",
        )
    if factor == "social_support":
        return Recommendation(
            "find_partner",
            factor,
            "Tell a friend about it or find a partner to check in with; accountability helps.",
        )
    return None
