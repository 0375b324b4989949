/**
 * API errors: an HTTP status plus the `IApiError` body, whose issues name
 * the field and the fix. Route handlers throw these; the server turns them
 * into JSON responses. Anything else thrown is a 500 with its message.
 */
import type { IApiError } from '../../core/api';
import type { IValidationIssue } from '../../core/validation';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: IValidationIssue[]
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get body(): IApiError {
    return this.issues?.length ? { error: this.message, issues: this.issues } : { error: this.message };
  }

  /** 400: bad input, with the issues found. */
  static invalid(message: string, issues: IValidationIssue[]): ApiError {
    return new ApiError(400, message, issues);
  }

  static notFound(message: string, fix: string, field = '(path)'): ApiError {
    return new ApiError(404, message, [{ field, message: 'names nothing that exists', fix }]);
  }

  static conflict(message: string, fix: string, field = '(state)'): ApiError {
    return new ApiError(409, message, [{ field, message, fix }]);
  }
}
