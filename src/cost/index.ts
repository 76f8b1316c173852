/** @module cost  Estimated job cost from instance prices and Spot discounts. */
export {
  attemptCost,
  DEFAULT_PRICE_PER_VCPU_HOUR,
  DEFAULT_SPOT_DISCOUNT,
  environmentPricing,
  hourlyRate,
} from './pricing.js';
export type { EnvironmentPricing, HourlyRate, JobShape, PricingConfig, Provisioning } from './pricing.js';
export { buildCostReport } from './cost-report.js';
export type { CostAttempt, CostJob, CostReport, JobCost } from './cost-report.js';
