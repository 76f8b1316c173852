/** @module templates  CloudFormation templates applied to openbatch / AWS Batch (apply, destroy, outputs). */
export { deployStack, destroyStack, orderByDependencies } from './deploy.js';
export type { Action, DeployOptions, DeployResult, DestroyOptions, PlanStep } from './deploy.js';
export { evaluate, NO_VALUE, referencedNames } from './intrinsics.js';
export type { Resolver, Value } from './intrinsics.js';
export { loadTemplate, parseTemplate } from './load-template.js';
export type { Template } from './load-template.js';
export { readParametersFile, resolveParameters } from './parameters.js';
export type { ParameterValue, ResolvedParameter } from './parameters.js';
export { generatedName, handlerFor } from './resource-types.js';
export type { ResourceHandler } from './resource-types.js';
export { endpointSlug, StackStateStore } from './stack-state.js';
export type { ResourceState, StackState } from './stack-state.js';
export { TemplateError } from './template-error.js';
