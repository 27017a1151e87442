import { HttpException, HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * Express middleware for the JSON API: a request that carries a body must say it is JSON,
 * otherwise 415 (passed on as an error so that the exception filter writes the typed body).
 */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (hasBody && !req.is('application/json')) {
    next(new HttpException('unsupported media type', HttpStatus.UNSUPPORTED_MEDIA_TYPE));
    return;
  }
  next();
}
