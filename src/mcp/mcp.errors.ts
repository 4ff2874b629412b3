import { AppError } from 'src/common/errors/app-error';
import { insufficientScope } from 'src/token-validation/oauth-resources';

export enum McpErrorCode {
  MCP_ORIGIN_REFUSED = 'MCP_ORIGIN_REFUSED',
  MCP_WRONG_RESOURCE = 'MCP_WRONG_RESOURCE',
  MCP_INSUFFICIENT_SCOPE = 'MCP_INSUFFICIENT_SCOPE',
  MCP_TOOL_FORBIDDEN = 'MCP_TOOL_FORBIDDEN',
}

/** A tool call the caller's scopes do not cover: answered `403 insufficient_scope` (step-up). */
export class InsufficientScopeError extends AppError {
  readonly answer: ReturnType<typeof insufficientScope>;

  constructor(scope: string) {
    const answer = insufficientScope([scope]);
    super('FORBIDDEN', McpErrorCode.MCP_INSUFFICIENT_SCOPE, answer.body.error_description, {
      reason: 'insufficient_scope',
    });
    this.answer = answer;
  }
}

export const McpErrors = {
  originRefused: () =>
    new AppError(
      'FORBIDDEN',
      McpErrorCode.MCP_ORIGIN_REFUSED,
      'Requests from this Origin are not accepted',
      { reason: 'foreign_origin' },
    ),
  /** A valid token for another resource (the API, an external provider): like any invalid token. */
  wrongResource: (reason: string) =>
    new AppError(
      'INVALID_TOKEN',
      McpErrorCode.MCP_WRONG_RESOURCE,
      'The access token is not valid for this resource',
      { reason },
    ),
  toolForbidden: () =>
    new AppError('FORBIDDEN', McpErrorCode.MCP_TOOL_FORBIDDEN, 'You may not use this tool'),
};
