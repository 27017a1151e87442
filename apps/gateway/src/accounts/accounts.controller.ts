import { Body, Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccountsService, LoginThrottled } from './accounts.service';

/** HTTP adapter of the account service; bodies are validated inside the service. */
@Controller('api/auth')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('register')
  @HttpCode(201)
  register(@Body() body: unknown) {
    return this.accounts.register(body);
  }

  @Post('login')
  @HttpCode(200)
  async login(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    try {
      return await this.accounts.login(body, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    } catch (err) {
      // Set here; the exception filter writes the 429 body and keeps headers already set.
      if (err instanceof LoginThrottled) res.setHeader('Retry-After', String(err.retryAfterS));
      throw err;
    }
  }
}
